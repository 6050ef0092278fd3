"""A DNS the test controls, for the crawl child (tests/test_dns_pinning.py puts this directory on
the child's PYTHONPATH, so Python imports it at start-up).

``TRACKER_TEST_DNS`` is JSON ``{"name": ["first answer", "second answer", ...]}``: each look-up of
a listed name (``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``: the address check and
Scrapy's own resolvers use these) takes the next answer, the last one repeating, which is how a
rebinding DNS server behaves. Other names resolve as usual. Each answer given is appended to the
file ``TRACKER_TEST_DNS_LOG`` as ``name address``.
"""

import json
import os
import socket
import threading

_ANSWERS = {k.lower(): list(v) for k, v in json.loads(os.environ.get("TRACKER_TEST_DNS", "{}")).items()}
_LOG = os.environ.get("TRACKER_TEST_DNS_LOG")
_LOCK = threading.Lock()
_real_getaddrinfo, _real_gethostbyname, _real_gethostbyname_ex = (
    socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex)


def _next(host):
    name = host.decode() if isinstance(host, bytes) else host
    answers = _ANSWERS.get((name or "").lower())
    if not answers:
        return None
    with _LOCK:
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        if _LOG:
            with open(_LOG, "a") as log:
                log.write(f"{name.lower()} {address}\n")
    return address


def getaddrinfo(host, port, *args, **kwargs):
    address = _next(host)
    return _real_getaddrinfo(host if address is None else address, port, *args, **kwargs)


def gethostbyname(host):
    address = _next(host)
    return _real_gethostbyname(host) if address is None else address


def gethostbyname_ex(host):
    address = _next(host)
    return _real_gethostbyname_ex(host) if address is None else (host, [], [address])


socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex = getaddrinfo, gethostbyname, gethostbyname_ex
