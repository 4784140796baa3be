# SPDX-License-Identifier: MIT
"""The suite's clock shift for the Python processes a test starts.

Under ``WL_CLOCK_SHIFT_DAYS`` the suite runs with its clock moved ahead (tests/conftest.py). A
test whose flow runs partly in processes it starts (``wrenchlight ingest`` and its workers,
``notify run``, the benches' API servers and worker pools) puts this directory first on their
``PYTHONPATH`` (the ``child_clock`` marker). Python imports ``sitecustomize`` at start-up, before
the entry point, and every process it starts in turn (multiprocessing's spawned children
included) inherits the variable: the whole tree reads the test's date, while the database's
``now()``, sleeps and monotonic clocks stay real, as in the test's own process.
"""

from __future__ import annotations

import os

_shift = os.environ.get("WL_CLOCK_SHIFT_DAYS")
if _shift:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=float(_shift)), tick=True).start()
    # time-machine starts the clock ticking at its first reading, not at start(): read it now,
    # or a process that reads it first after seconds of imports runs that much behind the
    # others (the bench's publish-to-commit latency was 2 s off between its processes).
    import time

    time.time()
