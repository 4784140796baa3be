# SPDX-License-Identifier: MIT
"""A failure to reach a service as one line saying what failed and what to do.

A wrong ``WRENCHLIGHT_DATABASE_URL`` used to end in a traceback of hundreds of lines through
psycopg, SQLAlchemy and Alembic. The user needs the URL (without its password), the reason,
and the setting to change; ``--debug`` (or ``WRENCHLIGHT_LOG_LEVEL=DEBUG``) still shows the
traceback.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import typer

from wrenchlight.rundir import DataDirBusy

DEBUG_HINT = "(--debug shows the traceback)"


def redacted(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")


def _database_failure(exc: BaseException) -> str | None:
    """One line for a database connection failure, or None if ``exc`` is not one."""
    import psycopg

    cause: BaseException | None = exc
    try:
        import sqlalchemy.exc

        if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
            cause = exc.orig
        elif isinstance(exc, sqlalchemy.exc.ArgumentError):
            return f"the database URL is not valid: {_first_line(exc)}"
    except ImportError:  # the device side has no SQLAlchemy
        pass
    if isinstance(cause, psycopg.errors.UndefinedTable):
        missing = _first_line(cause)
        return f"the database has no Wrenchlight schema ({missing}): run `wrenchlight db migrate`"
    if isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
        return f"cannot connect to the database: {_first_line(cause)}"
    if isinstance(cause, psycopg.ProgrammingError) and "conninfo" in str(cause).lower():
        return f"the database URL is not valid: {_first_line(cause)}"
    return None


def check_mqtt(url: str, timeout_s: float = 5.0) -> None:
    """Exit with one line unless a broker accepts TCP connections at ``url``."""
    parts = urlsplit(url)
    secure = parts.scheme in ("mqtts", "ssl")
    if parts.scheme not in ("mqtt", "tcp", "mqtts", "ssl") or not parts.hostname:
        _fail(f"the MQTT URL {redacted(url)} is not valid: use mqtt[s]://user:pass@host:port")
    try:
        port = parts.port or (8883 if secure else 1883)
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except (OSError, ValueError) as exc:
        _fail(
            f"cannot reach the MQTT broker at {redacted(url)}: {_first_line(exc)}; start it, "
            "or set WRENCHLIGHT_MQTT_URL (or --mqtt) to a broker that runs"
        )


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def explained() -> Iterator[None]:
    """Turn a service failure escaping the block into one line on stderr and exit code 2."""
    try:
        yield
    except DataDirBusy as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        line = _database_failure(exc)
        if line is None:
            raise
        from wrenchlight.settings import Settings

        url = Settings().database_url
        where = (
            f"WRENCHLIGHT_DATABASE_URL ({redacted(url)})"
            if url
            else "the embedded PostgreSQL (unset WRENCHLIGHT_DATABASE_URL)"
        )
        typer.echo(f"error: {line}. Check {where} and that the server runs {DEBUG_HINT}", err=True)
        raise SystemExit(2) from None
