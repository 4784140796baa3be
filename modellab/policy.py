# SPDX-License-Identifier: MIT
"""The service policies the lab replays, and the levels it scores them by.

At enrollment the car gets fresh oil and new pads (documented in predictive/README.md). The
models' policy changes the oil when its alert is raised (the pessimistic life left would run
out within the lead at the car's own usage: ``predictive.alerting``; variants alerting at a
fixed ``OIL_DUE_PCT`` are reported beside it) and replaces the pads at theirs (``PAD_DUE_MM``).
Every drained oil is analysed by a lab (``OIL_LAB_SD_PCT``), and in a car's first interval a
sample once the fleet model says ``alerting.SAMPLE_AT_PCT`` is gone (``OilLab``): those analyses
calibrate the vehicle's factor. The shop measures the pads at every oil change (cars without
engine oil: every ``EV_INSPECTION_DAY`` days), and each measurement recalibrates that vehicle's
pad-wear coefficients. Fixed intervals change the oil at N km or M days, whichever comes first.
"""

from __future__ import annotations

from predictive import alerting, brakes, thresholds
from predictive.totals import RECENT_TAU_S

# Alert levels of predictive.health (oil "due soon", pads "due soon"), the true thresholds the
# alerts must precede, and what counts as an alert raised far too early.
OIL_DUE_PCT = thresholds.OIL_DUE_SOON_PCT
PAD_DUE_MM = thresholds.PAD_DUE_SOON_MM
OIL_THRESHOLD_PCT = 0.0
PAD_THRESHOLD_MM = brakes.MIN_PAD_MM
OIL_EARLY_ABOVE_PCT = 25.0
PAD_EARLY_ABOVE_MM = 4.5
LEAD_KM = alerting.LEAD_KM
LEAD_DAYS = alerting.LEAD_DAYS
INTERVALS = {"5000km_6mo": (5000.0, 182.5), "10000km_12mo": (10000.0, 365.0)}
TRAINING_INTERVAL = "5000km_6mo"
EV_INSPECTION_DAY = 182.5
NEW_PAD_MM = brakes.NEW_PAD_MM
PHYSICS_BUDGET_MREVS = 30.0  # predictive.oil.BUDGET_EFFECTIVE_REVS in millions
RECENT_TAU_DAYS = RECENT_TAU_S / 86400.0  # recent usage as the evaluator's running totals see it
# Used-oil analyses (``OilLab``): days from the sample to the lab's result, and the lab's
# error (one sd, percentage points of life) in the figures reported, with the wider errors
# the report also shows how the policy fares under.
LAB_DAYS = 5.0
OIL_LAB_SD_PCT = 3.0
OIL_LAB_SD_SENSITIVITY = (5.0, 8.0)
