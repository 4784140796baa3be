# SPDX-License-Identifier: MIT
"""The alerts domain: what the owner's side does with an alert besides booking it."""
