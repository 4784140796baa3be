# SPDX-License-Identifier: MIT
"""The dongle agent: reads OBD-II through python-OBD, batches, buffers on disk, publishes over MQTT."""
