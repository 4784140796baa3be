# SPDX-License-Identifier: MIT
"""The import rules of DESIGN.md, checked by import-linter against pyproject.toml's contracts."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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
    covered = {m for c in config["contracts"] for m in c.get("source_modules", [])}
    assert set(parts) <= covered
    layered = {
        part.strip()
        for c in config["contracts"]
        if c["type"] == "layers"
        for layer in c["layers"]
        for part in layer.split("|")
    }
    assert layered == set(config["root_packages"]), "every package has its place in the layers"
    for part in config["root_packages"]:
        assert (ROOT / part / "README.md").is_file(), f"{part}/README.md missing"


def _root_packages() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "root_packages"
    ]


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively: every set of two or more modules importing each other
    in a loop. (grimp builds the graph but lists no cycles between modules.)"""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_cycle_finder_finds_loops_and_only_loops():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": set(), "f": {"f"}}
    assert _strongly_connected(graph) == [{"a", "b", "c"}]


def test_no_import_cycle_among_our_modules():
    """Every import counts, at the top of a module or inside a function: grimp reads them all
    (import-linter's own graph library)."""
    import grimp

    built = grimp.build_graph(*_root_packages(), include_external_packages=False)
    graph = {m: set(built.find_modules_directly_imported_by(m)) for m in built.modules}
    cycles = [sorted(c) for c in _strongly_connected(graph)]
    assert not cycles, "modules that import each other in a loop:\n" + "\n".join(
        " -> ".join(c) for c in cycles
    )


def test_only_the_bench_command_imports_the_benchmarks():
    """The wheel ships no benchmarks: nothing it ships may need them but ``wrenchlight bench``,
    which imports them when it is assembled and says where they run when they are missing."""
    import grimp

    built = grimp.build_graph(*_root_packages(), include_external_packages=False)
    importers = {
        m
        for b in built.find_descendants("benchmarks") | {"benchmarks"}
        for m in built.find_modules_that_directly_import(b)
        if m.split(".")[0] != "benchmarks"
    }
    assert importers == {"wrenchlight.cli.bench"}


def _modules(package: Path) -> list[str]:
    """The modules and subpackages directly in ``package``, as a README names them."""
    names = [p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    names += [p.name + "/" for p in package.iterdir() if (p / "__init__.py").is_file()]
    return sorted(names)


@pytest.mark.parametrize("package", sorted(_root_packages()))
def test_every_package_readme_names_each_of_its_modules(package):
    text = (ROOT / package / "README.md").read_text()
    missing = [
        name
        for name in _modules(ROOT / package)
        if not re.search(rf"(?<![\w.]){re.escape(name)}", text)
    ]
    assert not missing, f"{package}/README.md names no line for: {', '.join(missing)}"


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
