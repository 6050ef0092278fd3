"""The web process's one sender: what the ask pages queue (letters, the supporter's copy, a visitor's link) is
sent by one thread at the configured rate, over one connection, however many supporters press the button at
once; a request waits a few seconds to tell its supporter how it went, never for the whole queue."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from db.models import OutboxMessage

log = logging.getLogger("tracker.web.courier")
WAIT = 4.0  # seconds a page waits for its own messages before it answers "on its way"


class Courier:
    def __init__(self, application):
        self.application = application
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ran = threading.Condition()  # notified at the end of each delivery run: the waiting pages look again

    def kick(self) -> None:
        """Something was queued: deliver what is due (starting the thread the first time)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="courier", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.application.deliver()  # what it could not send stays queued; the pages read the outbox
            except Exception:  # a database hiccup: the messages stay queued for the next kick or run
                log.exception("courier: delivery failed; the messages stay queued")
            with self._ran:
                self._ran.notify_all()

    def wait_for(self, ids: list[int], timeout: float = WAIT) -> dict[int, tuple[str, str | None]]:
        """The state (and last error) of these messages once none is queued or being sent, or at ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self.application.sessions() as s:
                states = {i: (st, err) for i, st, err in s.execute(
                    select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.last_error)
                    .where(OutboxMessage.id.in_(ids)))}
            settled = all(st not in ("queued", "sending") for st, _ in states.values())
            # a message left queued with an error after a delivery run: the server is down, or the office had its
            # letters for the day; waiting longer changes nothing
            parked = all(st == "sent" or (st == "queued" and err) for st, err in states.values()) \
                and not self._wake.is_set()
            left = deadline - time.monotonic()
            if settled or parked or left <= 0:
                return states
            with self._ran:  # until the run ends (a message sent early in a long run: 50 ms at most)
                self._ran.wait(timeout=min(0.05, left))

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
