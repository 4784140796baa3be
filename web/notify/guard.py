# SPDX-License-Identifier: MIT
"""Where Apprise URLs may send: the public internet only, unless the operator allows more.

An Apprise URL is typed by a user and fetched by our server, like a webhook URL, so it gets
the webhooks' guard (``api.webhooks.network``: the same resolver, the same classification of
addresses, the same operator allow-list ``WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE``), twice:

- when the URL is added (``check``), so the person learns at once, in plain words;
- at every connection (``guarded``): Apprise's services post through ``requests``, whose
  urllib3 opens sockets with ``urllib3.util.connection.create_connection``. Inside
  ``guarded()`` that function resolves and checks the host and connects to the checked
  address itself, so a name that resolves elsewhere by the time of the send (DNS rebinding)
  gets nowhere. Outside it (other threads, other code) nothing changes: the switch is a
  context variable.

Only services known to send over HTTP(S) through ``requests`` are accepted (``SCHEMES``):
Apprise's mail, MQTT, XMPP and desktop plugins open connections of their own that the guard
would not see.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import apprise
import urllib3.util.connection as urllib3_connection

from api.webhooks.network import UnsafeDestination, WebhookConfig, resolve

# Apprise services that speak HTTP(S) through requests: the self-hosted ones people name in
# the issue (ntfy, Gotify, Matrix) and the hosted ones (Telegram, Pushover, ...), plus the
# generic JSON/form/XML posts.
SCHEMES = frozenset(
    {
        "ntfy", "ntfys", "gotify", "gotifys", "tgram", "pover", "matrix", "matrixs",
        "discord", "slack", "msteams", "rocket", "rockets", "mmost", "mmosts", "signal",
        "signals", "bark", "barks", "pbul", "json", "jsons", "form", "forms", "xml", "xmls",
        "apprise", "apprises",
    }
)  # fmt: skip

_active: ContextVar[WebhookConfig | None] = ContextVar("notify_guard", default=None)
_original = urllib3_connection.create_connection


class RefusedChannel(ValueError):
    """An Apprise URL that may not be used: ``code`` says why (``service``, ``invalid``,
    ``private``) for the page to put in words, the message says it in English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _guarded_connection(
    address: tuple[str, int], timeout: Any = None, *args: Any, **kwargs: Any
) -> socket.socket:
    config = _active.get()
    if config is None:
        return _original(address, timeout, *args, **kwargs)
    host, port = address
    last: OSError | None = None
    for checked in resolve(host, port, config):  # UnsafeDestination when not public
        try:
            return _original((str(checked), port), timeout, *args, **kwargs)
        except OSError as exc:
            last = exc
    raise last or OSError(f"{host} has no address")


# Installed once at import; inert unless a send runs inside guarded().
urllib3_connection.create_connection = _guarded_connection  # type: ignore[assignment]


@contextlib.contextmanager
def guarded(config: WebhookConfig) -> Iterator[None]:
    """Within this block, connections made by requests in this thread go only where
    ``config`` allows."""
    token = _active.set(config)
    try:
        yield
    finally:
        _active.reset(token)


def service(url: str) -> Any:
    """The Apprise service of ``url``; RefusedChannel when it is not one we send through."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise RefusedChannel(
            "service",
            f"“{scheme or url[:20]}” is not a notification service we send to. Use one of: "
            + ", ".join(sorted(SCHEMES)),
        )
    found = apprise.Apprise.instantiate(url)
    if found is None:
        raise RefusedChannel("invalid", "this is not a valid Apprise URL for that service")
    return found


def _hosts(found: Any) -> list[tuple[str, int]]:
    """The hosts a service names in its URL (a self-hosted server); hosted services such as
    Telegram name none of their own and go to their public API."""
    host = getattr(found, "host", None)
    if not isinstance(host, str) or not host:
        return []
    port = getattr(found, "port", None) or (443 if getattr(found, "secure", False) else 80)
    return [(host.strip("[]"), int(port))]


def check(url: str, config: WebhookConfig) -> Any:
    """The Apprise service of ``url`` if we may send to it; RefusedChannel with a plain
    reason otherwise (a private address the operator did not allow, say)."""
    found = service(url)
    for host, port in _hosts(found):
        try:
            resolve(host, port, config)
        except UnsafeDestination as exc:
            raise RefusedChannel(
                "private",
                "Refused: the destination is not on the public internet. Notifications go only "
                "to public addresses unless the operator allows more "
                "(WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE).",
            ) from exc
        except OSError:
            # A name that does not resolve now (a typo, or not yet in DNS): every send
            # checks again, so it cannot reach anything private later either.
            pass
    return found
