# SPDX-License-Identifier: MIT
"""The audit log: every write recorded by a middleware, read back by admins."""
