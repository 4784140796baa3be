# SPDX-License-Identifier: MIT
"""Devices: registration on a vehicle and the MQTT credentials each device connects with."""
