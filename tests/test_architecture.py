# SPDX-License-Identifier: MIT
"""The import rules of DESIGN.md, checked by import-linter against pyproject.toml's contracts."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is not installed in this environment"
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_part_is_under_contract_and_has_a_readme():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    parts = [
        "telemetry",
        "firmware_sim",
        "edge_agent",
        "db",
        "ingest",
        "predictive",
        "orders",
        "api",
        "web",
    ]
    covered = {m for c in config["contracts"] for m in c["source_modules"]}
    assert set(parts) <= covered
    for part in [*parts, "wrenchlight"]:
        assert (ROOT / part / "README.md").is_file(), f"{part}/README.md missing"


def test_edge_side_does_not_pull_in_cloud_libraries():
    code = (
        "import sys, edge_agent.agent, edge_agent.publisher, edge_agent.obd_link, telemetry; "
        "bad = {'fastapi', 'sklearn', 'psycopg', 'sqlalchemy'} & set(sys.modules); "
        "print(sorted(bad)); raise SystemExit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_edge_encodes_without_numpy():
    """`wrenchlight edge` blocks numpy (tens of MB it never needs): the agent and the codec's
    encoding must work without it (decoding, on the cloud side, may use it)."""
    code = (
        "import sys; sys.modules['numpy'] = None; "
        "import edge_agent.agent, edge_agent.publisher, edge_agent.obd_link; "
        "from telemetry import Batch, Series, encode; "
        "b = Batch('d1', 1, '', 1790000000000, (Series('speed_kmh', (0, 1000), (1.0, 2.0)),)); "
        "print(len(encode(b)), len(encode(b, 'json')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
