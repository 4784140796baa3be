# SPDX-License-Identifier: MIT
"""``python -m firmware_sim``: the simulator's command line on its own."""

from firmware_sim.cli import app

if __name__ == "__main__":
    app()
