"""Who claimed a message being sent (``outbox.claimed_by``), and what happens to the claim when that worker dies.

A claim names its worker the way leases do (``db.liveness``). A claim of a process on this machine
that is gone (``kill -9``, then a restart) is taken back and sent again at once, counted in ``uncertain``;
a live claimant, one on another machine or pid namespace, or an older row without ``claimed_by`` waits
for ``stale_after`` as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from alerts.deliver import deliver, recover_stale
from alerts.dispatch import compose_due
from alerts.outbox import counts
from alerts.subscribers import subscribe
from alerts.transport import SmtpTransport, parse_smtp_url
from db.models import OutboxMessage
from tests.alerts_world import KEY, NOW, add_action, add_bill, config, settings_of
from tests.smtp_sink import SmtpSink
from db.leases import holder_name

ROOT = Path(__file__).resolve().parent.parent
NAME_OF = "from db.leases import holder_name; print(holder_name('deliver'), flush=True)"
SENDER = "alerts@example.org"


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


@pytest.fixture
def live_worker():
    """The name of another process on this machine, alive for the whole test."""
    proc = subprocess.Popen([sys.executable, "-c", NAME_OF + "; import time; time.sleep(60)"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.kill()
        proc.wait()


def _dead_worker() -> str:
    """The name of a process on this machine that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", NAME_OF], capture_output=True, text=True, check=True, cwd=ROOT)
    name = done.stdout.strip()
    assert "@" in name  # /proc told it where it ran
    return name


def _smtp(sink):
    return SmtpTransport(parse_smtp_url(sink.url))


def _claimed(sessions, claimants: list[str | None], queued: int = 1) -> list[int]:
    """Alerts for ``len(claimants) + queued`` supporters composed; the first ones left ``sending`` as a worker
    that claimed them at NOW leaves them (None: an older row, from before ``claimed_by``). Their ids."""
    cfg = config()
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        for i in range(len(claimants) + queued):
            subscribe(s, settings_of(cfg), f"supporter{i}@example.org", bills=["H.135"], frequency="immediate", confirmed=True,
                      now=NOW - timedelta(days=1))
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], date(2026, 11, 29))
    compose_due(settings_of(cfg, KEY), sessions, NOW, kinds=("supporters",))
    with sessions.begin() as s:
        ids = list(s.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))[:len(claimants)]
        for message_id, claimant in zip(ids, claimants):
            s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                      .values(state="sending", claimed_at=NOW, claimed_by=claimant))
    return ids


def _claims(sessions, ids) -> list[tuple]:
    with sessions() as s:
        return [tuple(r) for r in s.execute(select(OutboxMessage.state, OutboxMessage.claimed_by, OutboxMessage.uncertain)
                                            .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id))]


def _elsewhere(name: str) -> str:
    """The same host, pid and token, in another machine boot or pid namespace."""
    return name.rpartition("@")[0] + "@0123456789ab.1.1"


def test_the_claim_names_the_worker_while_the_message_is_on_the_wire_and_is_cleared_after(sessions, sink):
    _claimed(sessions, [], queued=3)
    sink.state.reject["supporter1@example.org"] = "550 5.1.1 No such user here"
    seen = []

    class Watching(SmtpTransport):
        """The real SMTP transport, noting what the outbox says about the message it is sending."""

        def send(self, sender, to, body):
            with sessions() as s:
                seen.append(tuple(s.execute(select(OutboxMessage.state, OutboxMessage.claimed_by)
                                            .where(OutboxMessage.to_addr == to)).one()))
            return super().send(sender, to, body)

    report = deliver(sessions, Watching(parse_smtp_url(sink.url)), SENDER, now=lambda: NOW)
    assert report.sent == 2 and report.failed == 1
    ours = holder_name("deliver")
    assert ours.split(":")[1] == str(os.getpid()) and "@" in ours
    assert seen == [("sending", ours)] * 3
    with sessions() as s:
        after = s.execute(select(OutboxMessage.state, OutboxMessage.claimed_by, OutboxMessage.claimed_at)
                          .order_by(OutboxMessage.id)).all()
    assert [tuple(r) for r in after] == [("sent", None, None), ("failed", None, None), ("sent", None, None)]


def test_a_claim_of_a_worker_that_died_on_this_machine_is_sent_again_at_once_and_counted(sessions, sink):
    [claimed] = _claimed(sessions, [_dead_worker()], queued=2)
    soon = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW + timedelta(seconds=5))
    assert soon.recovered == 1 and soon.sent == 3  # not 10 minutes (stale_after) later: now
    assert sorted(r for r, _ in sink.state.messages) == [f"supporter{i}@example.org" for i in range(3)]
    assert _claims(sessions, [claimed]) == [("sent", None, 1)]
    with sessions() as s:
        assert counts(s)["uncertain"] == 1 and counts(s)["sent"] == 3


def test_a_live_a_remote_or_an_unnamed_claimant_waits_for_stale_after(sessions, sink, live_worker):
    dead = _dead_worker()
    claimants = [live_worker, _elsewhere(dead), dead.rpartition("@")[0], None]  # the third: a name without @place
    ids = _claimed(sessions, claimants)
    soon = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW + timedelta(minutes=9, seconds=59))
    assert soon.recovered == 0 and soon.sent == 1  # only the queued one
    assert _claims(sessions, ids) == [("sending", c, 0) for c in claimants]
    later = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW + timedelta(minutes=10))
    assert later.recovered == 4 and later.sent == 4
    assert _claims(sessions, ids) == [("sent", None, 1)] * 4
    assert len(sink.state.messages) == 5


def test_two_workers_recovering_one_dead_claim_at_once_take_it_once(sessions):
    """Worker A takes the claim back and claims it again for itself before it commits; worker B, recovering at
    the same moment, waits for A's transaction (the row's lock on PostgreSQL, the write lock on SQLite), then
    finds the row is no longer the dead worker's: it neither counts it nor takes it from A."""
    [claimed] = _claimed(sessions, [_dead_worker()], queued=0)
    ours = holder_name("deliver")
    b_result = []
    with sessions.begin() as a:
        assert recover_stale(a, NOW, timedelta(minutes=10)) == 1
        a.execute(update(OutboxMessage).where(OutboxMessage.id == claimed, OutboxMessage.state == "queued")
                  .values(state="sending", claimed_at=NOW, claimed_by=ours))

        def worker_b():
            with sessions.begin() as b:
                b_result.append(recover_stale(b, NOW, timedelta(minutes=10)))

        b = threading.Thread(target=worker_b)
        b.start()
        time.sleep(0.5)
        assert b.is_alive()  # B is held until A commits
    b.join(30)
    assert b_result == [0]
    assert _claims(sessions, [claimed]) == [("sending", ours, 1)]  # A's claim, counted once
