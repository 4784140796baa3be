# SPDX-License-Identifier: MIT
"""The dongle agent: reads OBD-II via python-OBD, batches, buffers on disk, publishes over MQTT."""
