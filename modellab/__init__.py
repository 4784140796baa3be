# SPDX-License-Identifier: MIT
"""The model lab: training and evaluation of the predictive models against the simulator's
hidden truth (``wrenchlight predictive train|evaluate``).

The only package that imports both ``firmware_sim`` and ``predictive``: the models never see
the simulator, and the simulator knows nothing of the models.
"""
