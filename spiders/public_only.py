"""Article pages are fetched only from public addresses.

A feed item's link is written by whoever wrote the feed (or by whoever could get an item
into it). Fetching it for full text from inside our network would let them make us request
``http://169.254.169.254/`` (a cloud's metadata service), ``http://10.0.0.5/admin`` or a
service on our own loopback. So every article request, and every redirect it takes, goes to
an address that is public (``ipaddress``'s ``is_global``), unless an operator allowed its
network explicitly (``sources.news.allow_private_networks``: the replicas on 127.0.0.1 in
tests and the demo).

The host is resolved here and every address it resolves to must pass; an IP written in an
odd form (``2130706433``, ``0x7f.1``, ``[::ffff:10.0.0.1]``) resolves to what it means. What
the addresses checked are the ones connected to: the check pins them (``spiders.pinned_dns``, the
article child's name resolver), so a name whose DNS answer changes between this check and the
connection (DNS rebinding) is still connected to the address that passed, at every redirect too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from spiders.pinned_dns import PinnedResolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(IgnoreRequest):
    """The URL points at a private, loopback, link-local or otherwise non-public address."""


def parse_networks(values) -> list[Network]:
    return [ipaddress.ip_network(v, strict=False) for v in values or ()]


def _resolve(host: str, port: int | None) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"{host} did not resolve ({exc})") from None
    return sorted({info[4][0] for info in infos})


def approved(url: str, allowed: list[Network]) -> tuple[str, list[str]]:
    """``url``'s host and every address it resolves to, all public (or in ``allowed``); raises
    :class:`RefusedAddress`, saying which address and why, when any is not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedAddress(f"refused {url}: only http and https links are fetched")
    host = parts.hostname
    if not host:
        raise RefusedAddress(f"refused {url}: no host")
    try:
        port = parts.port
    except ValueError:
        raise RefusedAddress(f"refused {url}: bad port") from None
    addresses = _resolve(host, port)
    for text in addresses:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if addr.is_global and not addr.is_multicast:
            continue
        if any(addr in net for net in allowed if net.version == addr.version):
            continue
        raise RefusedAddress(f"refused {url}: {host} is {addr}, not a public address "
                             f"(allow its network in sources.news.allow_private_networks)")
    return host, addresses


def refusal(url: str, allowed: list[Network]) -> str | None:
    """Why ``url`` may not be fetched, or None when it may."""
    try:
        approved(url, allowed)
    except RefusedAddress as exc:
        return str(exc)
    return None


def _pinning_resolver(url: str) -> PinnedResolver:
    # lazy: importing the reactor at module level would install Twisted's default reactor before
    # Scrapy installs its own
    from twisted.internet import reactor

    resolver = reactor.nameResolver
    if not isinstance(resolver, PinnedResolver):
        raise RefusedAddress(f"refused {url}: the checked address cannot be pinned (TWISTED_DNS_RESOLVER is not "
                             "spiders.pinned_dns.PinnedResolver), so the connection could go elsewhere")
    return resolver


class PublicOnly:
    """Downloader middleware: every request (redirects too) must go to a public address, and goes
    to the very addresses checked (pinned in ``spiders.pinned_dns``)."""

    def __init__(self, allowed: list[Network]):
        self.allowed = allowed

    @classmethod
    def from_crawler(cls, crawler):
        return cls(parse_networks(crawler.settings.getlist("TRACKER_ALLOW_PRIVATE_NETWORKS")))

    def process_request(self, request, *args, **kwargs):
        resolver = _pinning_resolver(request.url)
        host, addresses = approved(request.url, self.allowed)
        resolver.pin(host, addresses)
        return None
