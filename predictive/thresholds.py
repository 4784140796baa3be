# SPDX-License-Identifier: MIT
"""The wear models' limits and default alert thresholds, defined once.

Importable without numpy or psycopg (``predictive/__init__`` is lazy): ``wrenchlight.settings``
takes its ``oil_alert_pct``/``pad_alert_mm`` defaults from here, and the device-side commands
load those settings with numpy blocked.
"""

# Oil life at or below this is "due soon" (and raises an alert by default); at 0 it is overdue.
OIL_DUE_SOON_PCT = 15.0
# Pads at or below this are "due soon"; at the 3 mm minimum they are overdue.
PAD_DUE_SOON_MM = 4.0
# New brake pads (the vehicles table's column default, migration 0001) and the wear limit.
NEW_PAD_MM = 12.0
MIN_PAD_MM = 3.0
