# SPDX-License-Identifier: MIT
"""Where webhooks may go: the public internet only, unless the operator allows more.

A subscription's URL is chosen by a tenant, and the delivery worker posts from inside our network,
so without a check a fleet manager could make it call internal services (server-side request
forgery). Registration and every delivery resolve the host and refuse any address that is not
globally routable, whatever the spelling (``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
``127.1``, ``[::ffff:127.0.0.1]``, a name resolving there): the URL's host goes through the
same resolver the connection would use, and each resulting address is classified by the
stdlib ``ipaddress`` module after unwrapping IPv4 embedded in IPv6 forms.

Deliveries connect to the address that was checked (``PinnedBackend`` resolves, checks and
connects in one step inside the HTTP client), so a name that resolves to a public address at
the check and to 127.0.0.1 at the connection (DNS rebinding) gets nowhere. Redirects are not
followed, and environment proxies are ignored (a proxy would connect on our behalf unchecked).

A refusal says the same words (``NOT_PUBLIC``) whatever the reason: "resolves to a private
address" against "is loopback" would tell a tenant which internal names exist and where they
point. The reason stays in ``UnsafeDestination.detail``, for the operator's log.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore2
import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that mean this machine or a private network whatever a resolver answers: RFC 6761
# reserves localhost and *.localhost for loopback; .local is mDNS on the local link (RFC
# 6762), .home.arpa a home network (RFC 8375), .internal private use (ICANN, 2024).
PRIVATE_NAMES = ("localhost", "local", "home.arpa", "internal", "localdomain")

# 64:ff9b:1::/48 is local-use NAT64 (RFC 8215): it translates to private IPv4 networks, but
# Python 3.11's ipaddress predates it and calls it global.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
# 64:ff9b::/96 is the well-known NAT64 prefix (RFC 6052): the IPv4 address in its last 32
# bits is where a NAT64 gateway connects, so that address is the one to classify.
WELL_KNOWN_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


NOT_PUBLIC = "the destination is not on the public internet"


class UnsafeDestination(ValueError):
    """A webhook URL whose host is, or resolves to, an address webhooks may not reach.

    Its text is ``message``: ``NOT_PUBLIC`` for every non-public destination, so what a tenant
    reads does not depend on what a name resolves to; ``detail`` is the reason, for logs."""

    def __init__(self, detail: str, message: str = NOT_PUBLIC) -> None:
        super().__init__(message)
        self.detail = detail


def _entry(text: str) -> IPNetwork | str:
    """One allow-list entry: a CIDR or address, else a host name (lower case)."""
    text = text.strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    name = text.lower().rstrip(".")
    if not name or any(c in name for c in "/:@[] ") or len(name) > 253:
        raise ValueError(f"not a CIDR, address or host name: {text!r}")
    return name


@dataclass(frozen=True)
class WebhookConfig:
    """Where webhooks may go besides the public internet: ``allow_private`` lists CIDRs
    (``10.20.0.0/16``), addresses or host names an operator trusts as receivers."""

    allow_private: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = field(init=False, repr=False)
    hosts: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        entries = [_entry(e) for e in self.allow_private if e.strip()]
        nets = tuple(e for e in entries if not isinstance(e, str))
        object.__setattr__(self, "networks", nets)
        object.__setattr__(self, "hosts", frozenset(e for e in entries if isinstance(e, str)))

    def allows_host(self, host: str) -> bool:
        """Whether the operator listed this host name."""
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        """Whether the operator listed a network holding this address."""
        return any(address in net for net in self.networks)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form leads to: IPv4-mapped, 6to4, well-known NAT64. (Teredo,
    2001::/32, is refused as a whole: ipaddress counts it in the non-global 2001::/23.)"""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in WELL_KNOWN_NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """Why webhooks may not go to ``address`` (loopback, private, ...), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in LOCAL_NAT64:
            return "local-use NAT64"
        inner = _embedded_ipv4(address)
        if inner is not None:
            return why_not_public(inner)
    # Order matters only for the word used: the most specific first.
    for kind in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "not globally routable"
    return None


def _private_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == n or name.endswith("." + n) for n in PRIVATE_NAMES)


def resolve(host: str, port: int, config: WebhookConfig) -> list[IPAddress]:
    """The addresses of ``host`` that a delivery may connect to; UnsafeDestination if any of
    them (or the name itself) is not public and the operator did not allow it. A name that
    does not resolve raises OSError (socket.gaierror)."""
    trusted_name = config.allows_host(host)
    if _private_name(host) and not trusted_name:
        raise UnsafeDestination(f"{host} is a local or private name")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        reason = why_not_public(address)
        # Any non-public answer refuses the whole name: a resolver may order them differently
        # at the connection than here.
        if reason and not trusted_name and not config.allows_address(address):
            raise UnsafeDestination(f"{host} resolves to a {reason} address")
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_url(url: str, config: WebhookConfig) -> None:
    """Refuse a subscription URL whose host is, or resolves to, a non-public address. A name
    that does not resolve now passes: every delivery checks again."""
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        invalid = f"the URL is not valid ({exc})"
        raise UnsafeDestination(invalid, invalid) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        malformed = "the URL needs an http(s) scheme and a host"
        raise UnsafeDestination(malformed, malformed)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    with contextlib.suppress(OSError):  # does not resolve (yet): deliveries check again
        resolve(parsed.host, port, config)


class PinnedBackend(httpcore2.SyncBackend):
    """Resolves and checks the host, then connects to the checked address itself, so the
    connection goes where the check looked (TLS still verifies the certificate for the name,
    as httpcore passes the URL's host as the server name)."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        try:
            addresses = resolve(host, port, self.config)
        except OSError as exc:
            raise httpcore2.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore2.ConnectError(f"{host} has no address")


class _PinnedTransport(httpx2.HTTPTransport):
    def __init__(self, config: WebhookConfig) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            network_backend=PinnedBackend(config),
        )


def client(config: WebhookConfig) -> httpx2.Client:
    """The HTTP client of deliveries: checked and pinned connections, no redirects, no
    proxies from the environment."""
    return httpx2.Client(
        transport=_PinnedTransport(config), follow_redirects=False, trust_env=False
    )
