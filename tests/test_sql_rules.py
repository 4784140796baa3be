# SPDX-License-Identifier: MIT
"""Typed rows and composed SQL (issue 16, part 2), checked on the source of every package.

A database row is read by name, never by position: ``row[0]``, ``cur.fetchone()[0]`` or
``a, b = cur.fetchone()`` would read a reordered or added column as another, silently. SQL
with variable parts is composed with ``psycopg.sql``; SQL text is never built with an
f-string, ``%`` or ``.format`` (``sql.SQL("...{}...").format(...)`` is the allowed way).

The check is by AST and per function: a *row* is the result of ``fetchone()``, a name bound
from it, or the loop variable over a *result* (a ``fetchall()``/``fetchmany()``/``execute()``
call, or a name bound from one). Reading a row by an integer or a slice, or unpacking it into
a tuple, is a finding. Packages are discovered (every top-level directory with an
``__init__.py`` except ``tests``), so a new package is checked without being listed here;
migrations (``db/migrations/``) keep their hand-written SQL and are not checked.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_CHECKED = ("tests", "db/migrations")

_RESULT_METHODS = {"fetchall", "fetchmany", "execute"}
_ROW_METHODS = {"fetchone"}
# SQL text: the start of a statement, or a clause keyword inside, in capitals as the project
# writes SQL (English prose in messages does not shout). A statement start is matched with its
# shape (``COPY ... FROM``, ``UPDATE ... SET``) so a message such as "COPY stored 3 samples" is
# not taken for SQL.
_SQL_START = re.compile(
    r"^\s*\(?\s*(SELECT\b|INSERT INTO\b|UPDATE\b.*\bSET\b|DELETE FROM\b|WITH\b.*\bAS\b|"
    r"COPY\b.*\b(FROM|TO)\b|TRUNCATE\b|"
    r"(CREATE|ALTER|DROP)\b.*\b(TABLE|INDEX|VIEW|DATABASE|SCHEMA|EXTENSION|ROLE|USER|FUNCTION|"
    r"TRIGGER|SEQUENCE|TYPE)\b)",
    re.DOTALL,
)
_SQL_INSIDE = re.compile(
    r"\b(SELECT|INSERT INTO|DELETE FROM|TRUNCATE|CREATE (TABLE|INDEX|VIEW)|ALTER TABLE|"
    r"DROP (TABLE|INDEX|VIEW))\b| FROM | WHERE | SET | ORDER BY | GROUP BY "
)


def packages(root: Path = ROOT) -> list[Path]:
    """Every top-level package of the project (a directory with ``__init__.py``), not tests."""
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and (p / "__init__.py").is_file() and p.name not in NOT_CHECKED
    )


def checked_files(root: Path = ROOT) -> Iterator[Path]:
    """The Python files the rule applies to."""
    for package in packages(root):
        for path in sorted(package.rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not any(relative.startswith(f"{skip}/") for skip in NOT_CHECKED):
                yield path


def _method(node: ast.AST) -> str | None:
    """``name`` for a call ``x.name(...)``, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _looks_like_sql(text: str) -> bool:
    return bool(_SQL_START.search(text) or _SQL_INSIDE.search(text))


def _fstring_text(node: ast.JoinedStr) -> str:
    return "".join(
        v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
        for v in node.values
    )


def _scopes(tree: ast.Module) -> Iterator[list[ast.AST]]:
    """The nodes of each scope: the module's top level and each function, nested functions
    apart (a name means one thing within a function)."""

    def own_nodes(body: list[ast.stmt]) -> list[ast.AST]:
        out: list[ast.AST] = []
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            out.append(node)
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    stack.append(child)
        return out

    yield own_nodes(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield own_nodes(node.body)


class _Scope:
    """The names of one scope bound to rows and to results (collected to a fixed point)."""

    def __init__(self, nodes: list[ast.AST]) -> None:
        self.rows: set[str] = set()
        self.results: set[str] = set()
        while True:
            before = (len(self.rows), len(self.results))
            for node in nodes:
                self._bind(node)
            if (len(self.rows), len(self.results)) == before:
                break

    def is_row(self, node: ast.AST) -> bool:
        """A single fetched row: ``x.fetchone()``, a name bound to one, ``result[i]``."""
        if _method(node) in _ROW_METHODS:
            return True
        if isinstance(node, ast.Name):
            return node.id in self.rows
        return isinstance(node, ast.Subscript) and self.is_result(node.value)

    def is_result(self, node: ast.AST) -> bool:
        """Many fetched rows: ``fetchall()``, ``fetchmany()``, ``execute()``, or a name bound
        to one."""
        if _method(node) in _RESULT_METHODS:
            return True
        return isinstance(node, ast.Name) and node.id in self.results

    def _bind(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    if self.is_row(node.value):
                        self.rows.add(target.id)
                    elif self.is_result(node.value):
                        self.results.add(target.id)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            self._bind_loop(node.target, node.iter)

    def _bind_loop(self, target: ast.AST, iterable: ast.AST) -> None:
        if isinstance(target, ast.Name) and self.is_result(iterable):
            self.rows.add(target.id)
        elif (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "enumerate"
            and iterable.args
            and self.is_result(iterable.args[0])
            and isinstance(target, ast.Tuple)
            and len(target.elts) == 2
            and isinstance(target.elts[1], ast.Name)
        ):
            self.rows.add(target.elts[1].id)


def _positional(node: ast.Subscript) -> bool:
    index = node.slice
    if isinstance(index, ast.Slice):
        return True
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
        index = index.operand
    return isinstance(index, ast.Constant) and type(index.value) is int


def findings_in(source: str, name: str = "<snippet>") -> list[str]:
    """``name:line: what`` for every positional row read and SQL text built by formatting."""
    tree = ast.parse(source)
    found: set[tuple[int, str]] = set()
    for nodes in _scopes(tree):
        scope = _Scope(nodes)
        for node in nodes:
            for line, what in _row_findings(scope, node):
                found.add((line, what))
            for line, what in _sql_findings(node):
                found.add((line, what))
    return [f"{name}:{line}: {what}" for line, what in sorted(found)]


def _row_findings(scope: _Scope, node: ast.AST) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.Subscript) and _positional(node):
        value = node.value
        if scope.is_row(value) or _method(value) in _RESULT_METHODS:
            yield node.lineno, "row read by position"
    elif isinstance(node, ast.Assign):
        unpacks = any(isinstance(t, ast.Tuple | ast.List) for t in node.targets)
        if unpacks and scope.is_row(node.value):
            yield node.lineno, "row unpacked into a tuple"
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        unpacks = isinstance(node.target, ast.Tuple | ast.List)
        if unpacks and scope.is_result(node.iter):
            yield node.target.lineno, "rows unpacked into tuples by a loop"


def _sql_findings(node: ast.AST) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.JoinedStr) and _looks_like_sql(_fstring_text(node)):
        yield node.lineno, "SQL text built with an f-string"
    elif (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_sql_literal(node.left)
    ):
        yield node.lineno, "SQL text built with % formatting"
    elif (
        _method(node) == "format"
        and isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and _is_sql_literal(node.func.value)
    ):
        yield node.lineno, "SQL text built with str.format (use psycopg.sql)"


def _is_sql_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _looks_like_sql(node.value)
    return isinstance(node, ast.JoinedStr) and _looks_like_sql(_fstring_text(node))


def project_findings(root: Path = ROOT) -> list[str]:
    """Every finding in the project's packages."""
    out: list[str] = []
    for path in checked_files(root):
        out += findings_in(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
    return out


def test_rows_are_read_by_name_and_sql_is_composed():
    found = project_findings()
    assert not found, f"{len(found)} finding(s):\n" + "\n".join(found)


def test_packages_are_discovered_not_listed():
    names = {p.name for p in packages()}
    assert {"telemetry", "firmware_sim", "edge_agent", "db", "ingest"} <= names
    assert "tests" not in names
    assert not any(p.as_posix().endswith("db/migrations/env.py") for p in checked_files())


def test_a_new_package_is_checked(tmp_path):
    package = tmp_path / "newpart"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "q.py").write_text("def f(cur):\n    return cur.fetchone()[0]\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "t.py").write_text("def f(cur):\n    return cur.fetchone()[0]\n")
    assert project_findings(tmp_path) == ["newpart/q.py:2: row read by position"]


def _lines(source: str) -> list[int]:
    return [int(f.split(":")[1]) for f in findings_in(source)]


def test_catches_positional_reads():
    source = """
def f(conn, cur):
    a = cur.fetchone()[0]
    b = conn.execute("SELECT 1")[0]
    c = cur.fetchall()[-1]
    row = cur.fetchone()
    d = row[1]
    e = row[1:3]
    rows = conn.execute("SELECT 1, 2").fetchall()
    for r in rows:
        g = r[0]
    h = {r[0]: r for r in conn.execute("SELECT 1")}
    for i, r2 in enumerate(cur.fetchall()):
        k = r2[2]
    return rows[0][1]
"""
    assert _lines(source) == [3, 4, 5, 7, 8, 11, 12, 14, 15]


def test_catches_tuple_unpacking():
    source = """
def f(conn, cur):
    a, b = cur.fetchone()
    row = cur.fetchone()
    (c, d) = row
    for e, f in conn.execute("SELECT 1, 2"):
        pass
    rows = cur.fetchall()
    return [x for x, y in rows]
"""
    assert _lines(source) == [3, 5, 6, 9]


def test_catches_sql_built_by_formatting():
    source = """
def f(table, order, n):
    a = f"SELECT * FROM {table}"
    b = "DELETE FROM %s" % table
    c = "UPDATE t SET x = 1 ORDER BY {}".format(order)
    d = f"x, y FROM t WHERE n = {n}"
    e = ("SELECT a "
         f"FROM {table}")
    g = f"COPY {table} (a, b) FROM STDIN"
    h = f'DROP DATABASE IF EXISTS "{table}"'
    return a, b, c, d, e, g, h
"""
    assert _lines(source) == [3, 4, 5, 6, 7, 9, 10]


def test_allows_rows_by_name_and_composed_sql():
    source = """
from psycopg import sql

def f(conn, cur, table, n, matrix):
    row = cur.fetchone()
    a = row["vehicle_id"]
    b = row.vehicle_id
    q = sql.SQL("SELECT {} FROM {} WHERE n = %s").format(sql.Identifier("x"), sql.Identifier(table))
    conn.execute(q, (n,))
    conn.execute("SELECT a FROM t WHERE n = %s", (n,))
    values = matrix[0]
    pair = (1, 2)
    x, y = pair
    first = pair[0]
    message = f"vehicle {n} has no data; update the firmware"
    log = "%d rows" % n
    error = f"COPY stored {n} samples, expected {n + 1}"
    for key, value in {"a": 1}.items():
        pass
    return a, b, values, x, y, first, message, log, error
"""
    assert findings_in(source) == []
