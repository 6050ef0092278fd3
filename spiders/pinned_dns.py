"""The article fetch connects only to addresses its check approved (DNS pinning).

``spiders.public_only`` resolves each article request's host (every redirect too) and refuses it
unless every address is public; it then pins the host to exactly those addresses here. In the
article child this resolver is the reactor's name resolver (``TWISTED_DNS_RESOLVER``, set by
``spiders.crawl_child``), so when Scrapy opens the connection it asks this table and never DNS:
a name that answers a public address to the check and a private one a moment later (DNS
rebinding) is still connected to the address that was checked. A name nobody checked does not
resolve at all (the request fails as a failed lookup), so nothing can slip past the check by
skipping it. The URL is left as it is: the Host header and the TLS server name (SNI) are still the
name, only the name-to-address step is replaced.

A pin is per host, not per request: two checks of one host may pin different (each checked)
addresses, and a kept-alive connection may be reused by a later request to that host; every
connection still goes to an address that passed the check.
"""

from __future__ import annotations

import logging

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from zope.interface import implementer

log = logging.getLogger(__name__)


def host_key(host: str | bytes) -> str:
    """One spelling of a host for the table: the check sees ``urlsplit``'s lowercased host without
    brackets, Twisted the URL's own spelling."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return host.strip("[]").lower()


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # answered at once: nothing to cancel
        return None


@implementer(IHostnameResolver)
class PinnedResolver:
    """A Twisted name resolver answering only with the addresses pinned by the address check."""

    def __init__(self, reactor):
        self.reactor = reactor
        self.pins: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def pin(self, host: str, addresses: list[str]) -> None:
        self.pins[host_key(host)] = tuple(addresses)

    def resolveHostName(self, resolutionReceiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        pinned = self.pins.get(host_key(hostName))
        if pinned is None:
            log.warning("not connecting to %s: its address was not checked (spiders.public_only)", hostName)
        for text in pinned or ():
            kind = IPv6Address if ":" in text else IPv4Address
            if addressTypes is None or kind in addressTypes:
                resolutionReceiver.addressResolved(kind("TCP", text, portNumber))
        resolutionReceiver.resolutionComplete()
        return resolution
