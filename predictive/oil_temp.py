# SPDX-License-Identifier: MIT
"""Oil temperature estimated from coolant, load and ambient when the car does not report it.

Many cars do not support PID 0x5C (engine oil temperature). Coolant alone is a poor stand-in
while the engine warms up: the sump holds several litres of oil heated through the block and
by the bearings, so the oil trails the coolant by minutes, then runs above it under load.
Parked, the oil cools towards the outside air more slowly than the coolant, so a short stop
leaves it warmer than the coolant reads.

A lumped first-order model captures both: while the engine runs, the oil relaxes towards the
coolant temperature plus a rise proportional to engine load, with time constant
``RUN_TAU_S``; while it is off (rpm 0, or a gap in the data longer than ``MAX_DT_S``), it
relaxes towards ambient with ``PARKED_TAU_S``. The recurrence is solved exactly per interval
(the inputs held at each interval's start), vectorised. Pure numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from predictive.lag import first_order_lag

FloatArray = npt.NDArray[np.float64]

# Time constant of the oil behind the coolant with the engine running. A 4-5 l sump warms
# roughly twice as slowly as the coolant loop; oil reaching operating temperature 10-15 min
# after a cold start (coolant ~5-8 min) puts it at about 8 minutes.
RUN_TAU_S = 480.0
# Oil above coolant under load: bearing friction and piston cooling jets put ~15-25 °C more
# into the oil at full load than at idle; 0.2 °C per % of calculated load.
LOAD_RISE_C_PER_PCT = 0.2
# Engine off: a warm sump in still air loses about two thirds of its excess heat in an hour.
PARKED_TAU_S = 3600.0
# Longer intervals between samples are a stop or lost data: the engine is taken to be off.
MAX_DT_S = 30.0
# Outside air assumed where the car reports none (a mild day).
DEFAULT_AMBIENT_C = 15.0


def estimate_oil_temp_c(
    t_s: npt.ArrayLike,
    *,
    rpm: npt.ArrayLike,
    coolant_c: npt.ArrayLike,
    load_pct: npt.ArrayLike,
    ambient_c: npt.ArrayLike,
    initial_c: float | None = None,
) -> FloatArray:
    """Estimated oil temperature at each sample time (inputs aligned with ``t_s``).

    ``initial_c`` is the estimate at the first sample (carried from the previous chunk);
    without it the oil starts at the coolant's temperature, as it does after a long stop.
    """
    t = np.asarray(t_s, dtype=np.float64)
    if t.size == 0:
        return np.zeros(0)
    coolant = np.asarray(coolant_c, dtype=np.float64)
    load = np.clip(np.asarray(load_pct, dtype=np.float64), 0.0, 100.0)
    ambient = np.asarray(ambient_c, dtype=np.float64)
    running = np.asarray(rpm, dtype=np.float64) > 0.0
    x0 = float(coolant[0]) if initial_c is None else float(initial_c)
    if t.size == 1:
        return np.array([x0])
    dt = np.diff(t)
    on = running[:-1] & (dt <= MAX_DT_S)
    target = np.where(on, coolant[:-1] + LOAD_RISE_C_PER_PCT * load[:-1], ambient[:-1])
    a = np.exp(-dt / np.where(on, RUN_TAU_S, PARKED_TAU_S))
    return np.concatenate(([x0], first_order_lag(a, target, x0)))
