# SPDX-License-Identifier: MIT
"""``python -m wrenchlight.cli``: the same as the ``wrenchlight`` console script."""

from wrenchlight.cli import main

main()
