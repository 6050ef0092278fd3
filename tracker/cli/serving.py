"""Running the web app for ``tracker serve``: its address once it listens, and one access line per request, on
stderr through logging (``--log-format json`` applies): ``Serving on http://127.0.0.1:8000/ (Ctrl-C to stop)``,
then ``access method=GET path=/bills/192/H135 status=200 ms=12 client=127.0.0.1``.

The value of a ``token`` parameter (the signed links of emails) is never written: ``token=…``.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import time
from typing import Callable

log = logging.getLogger("tracker.serve")
access = logging.getLogger("tracker.access")
_TOKEN = re.compile(r"(^|&)(token=)[^&]*")


class AccessLog:
    """ASGI middleware: one line on ``tracker.access`` when a request's response has been sent."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = [500]  # an app that raises before answering: uvicorn answers 500

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = (scope.get("client") or ("-",))[0]
            fields = {"method": scope["method"], "path": request_path(scope), "status": status[0],
                      "ms": int((time.monotonic() - started) * 1000), "client": client}
            access.info("access method=%(method)s path=%(path)s status=%(status)d ms=%(ms)d client=%(client)s", fields,
                        extra=fields)


def request_path(scope) -> str:
    """The path and query as requested, a token's value left out."""
    path = scope.get("raw_path") or scope["path"].encode()
    query = _TOKEN.sub(r"\1\2…", scope.get("query_string", b"").decode("latin-1"))
    return path.decode("latin-1") + (f"?{query}" if query else "")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one); OSError when it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said, not left 0: asyncio sets TCP_NODELAY only on the connections of a socket that says it (its
    # accepted sockets inherit ``proto``); without it a kept-alive connection's every answer after the first waits
    # ~40 ms (Nagle's algorithm holds the body until the client's delayed ACK of the headers)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(web, sock: socket.socket, worker: tuple[int, int] | None = None) -> None:
    """Serve ``web`` on ``sock`` until SIGINT or SIGTERM, saying where once it listens (``worker``: this process
    is worker k of n, and says so)."""
    import uvicorn  # lazy: start-up time that only this command needs

    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    which = f", worker {worker[0]} of {worker[1]}, pid {os.getpid()}" if worker else ""

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started:
                log.info("Serving on %s (Ctrl-C to stop%s)", url, which)

    for logger in (log, access):
        logger.setLevel(logging.INFO)  # whatever -v says: serving says where it listens and what it answers
    config = uvicorn.Config(AccessLog(web), log_level="warning", access_log=False, log_config=None)
    Server(config).run(sockets=[sock])


def serve_workers(make_web: Callable[[], object], sock: socket.socket, workers: int) -> None:
    """``workers`` processes serving ``make_web()`` (each builds its own app: its database connections, its page
    cache, its courier) on the one listening socket, which the kernel hands each new connection to one of them.
    This process only watches them: SIGINT or SIGTERM is passed on to each (they finish the requests in flight
    and stop), and a worker that dies otherwise is started again. One worker: served in this process."""
    if workers <= 1:
        serve(make_web(), sock)
        return
    children: dict[int, int] = {}
    stopping: list[int] = []

    def start(k: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: its own process group, so a terminal's Ctrl-C reaches it once, from the parent
            code = 1
            try:
                os.setpgid(0, 0)
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                serve(make_web(), sock, (k, workers))
                code = 0
            except BaseException:
                log.exception("worker %d of %d failed", k, workers)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = k

    def stop(signum, _frame) -> None:
        stopping.append(signum)
        for pid in list(children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    for k in range(1, workers + 1):
        start(k)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        k = children.pop(pid, None)
        if k is None or stopping:
            continue
        log.warning("worker %d of %d (pid %d) stopped (%s); starting another", k, workers, pid,
                    f"exit {os.waitstatus_to_exitcode(status)}")
        time.sleep(1.0)  # a worker that cannot start does not spin
        if not stopping:
            start(k)
