"""The crawl's batch store (``tracker.crawl_store``): the same records as bill by bill, one bad bill of a batch
reported alone, an unchanged batch one UPDATE and no row, and the reader thread that keeps the child's pipe empty."""

from __future__ import annotations

import copy
import threading
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import MetaData, Table, event, func, inspect, select

from db.engine import make_engine, session_factory
from db.migrate import upgrade
from db.models import Bill, BillAction, Event, Hearing, Snapshot
from tests.test_crawl import make_config
from tracker.crawl import _jobs, crawl, run_child, sync_tracked
from tracker.crawl_store import batched, store_batch, store_one

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc)
CRAWL_EVERY, DETAIL_EVERY = timedelta(hours=6), timedelta(days=1)


def observe(config, sessions, now=NOW) -> list[dict]:
    """What the real child reports for the tracked bills (and the new drafts it follows)."""
    with sessions.begin() as s:
        sync_tracked(s, config, now)
        jobs = _jobs(s, config, now, None)
        known = set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True))))
    out = [o for o in run_child(config, jobs, known) if "status" in o]
    assert out and all(o["status"] != "error" for o in out), out
    return out


def records(sessions, canonical: str) -> dict:
    """Everything stored about a bill, without surrogate ids (snapshots by their sha256)."""
    with sessions() as s:
        bill = s.scalar(select(Bill).where(Bill.canonical == canonical))
        if bill is None:
            return {}
        sha = dict(s.execute(select(Snapshot.id, Snapshot.sha256)).all())
        return {
            "bill": (bill.title, bill.status, bill.committee, bill.sponsor, bill.petitioners, bill.history_hash,
                     bill.content_hash, bill.etag, bill.error_count, bill.last_error, bill.url),
            "events": [(e.kind, e.summary, e.payload, e.occurred_on, sha.get(e.snapshot_id))
                       for e in s.scalars(select(Event).where(Event.bill_id == bill.id).order_by(Event.id))],
            "actions": [(a.position, a.occurrence, a.date, a.branch, a.action, list(a.kinds), sha.get(a.snapshot_id),
                         a.removed_at) for a in s.scalars(select(BillAction).where(BillAction.bill_id == bill.id)
                                                           .order_by(BillAction.position, BillAction.id))],
            "hearings": [(h.starts_at, h.ends_at, h.location, h.status) for h in s.scalars(
                select(Hearing).where(Hearing.bill_id == bill.id).order_by(Hearing.id))],
        }


def reference(tmp_path, config, observations) -> session_factory:
    """The same observations stored bill by bill, each in its own transaction, in a SQLite file of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bill-by-bill.sqlite'}")
    upgrade(engine)
    ref = session_factory(engine)
    with ref.begin() as s:
        sync_tracked(s, config, NOW)
    for obs in observations:
        store_one(ref, obs, NOW, CRAWL_EVERY, DETAIL_EVERY)
    return ref


class Statements:
    """SQL statements and commits on an engine (an executemany counts as one statement)."""

    def __init__(self, engine):
        self.engine, self.sql, self.full, self.commits = engine, [], [], 0

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self.sql.append(statement.split(None, 1)[0].upper() + (" many" if executemany else ""))
        self.full.append(statement)

    def _commit(self, conn):
        self.commits += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def row_counts(engine) -> dict[str, int]:
    meta = MetaData()
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(Table(name, meta, autoload_with=conn))).scalar()
                for name in inspect(engine).get_table_names()}


def test_a_batch_stores_the_records_a_bill_by_bill_store_does_in_one_transaction(engine, sessions, replica_server,
                                                                                 tmp_path):
    config = make_config(replica_server.base_url)
    observations = observe(config, sessions)
    assert len(observations) == 4  # H.135, S.47 and the new draft and study order they hand over to
    with Statements(engine) as counted:
        outcomes = store_batch(sessions, observations, NOW, CRAWL_EVERY, DETAIL_EVERY)
    assert [o.bill for o in outcomes] == [o["bill"] for o in observations]
    assert all(o.error is None and o.changed for o in outcomes)
    assert counted.commits == 1  # the four bills, their actions, events, hearings and snapshots together
    ref = reference(tmp_path, config, observations)
    for obs in observations:
        got = records(sessions, obs["bill"])
        assert got["events"] and got == records(ref, obs["bill"]), obs["bill"]


def test_one_bad_bill_in_a_batch_is_reported_with_its_url_and_the_others_are_stored(sessions, replica_server,
                                                                                     tmp_path):
    config = make_config(replica_server.base_url)
    observations = observe(config, sessions)
    bad = next(i for i, o in enumerate(observations) if o["bill"] == "ma/192/S47")
    broken = copy.deepcopy(observations)
    broken[bad]["history"][-1][0] = "the 31st of Smarch"  # a date nobody can read: fails halfway through its bill
    outcomes = store_batch(sessions, broken, NOW, CRAWL_EVERY, DETAIL_EVERY)

    failed = outcomes[bad]
    assert failed.bill == "ma/192/S47" and failed.events == []
    assert failed.error["bill"] == "ma/192/S47" and failed.error["url"] == observations[bad]["url"]
    assert "ValueError" in failed.error["error"]
    assert all(o.error is None and o.changed for i, o in enumerate(outcomes) if i != bad)
    with sessions() as s:
        s47 = s.scalar(select(Bill).where(Bill.canonical == "ma/192/S47"))
        assert s47.error_count == 1 and observations[bad]["url"] in s47.last_error
        assert s.scalar(select(func.count()).select_from(BillAction).where(BillAction.bill_id == s47.id)) == 0
        assert s.scalar(select(func.count()).select_from(Event).where(Event.bill_id == s47.id)) == 0
    ref = reference(tmp_path, config, [o for i, o in enumerate(observations) if i != bad])
    for i, obs in enumerate(observations):
        if i != bad:
            assert records(sessions, obs["bill"]) == records(ref, obs["bill"]), obs["bill"]


def test_an_unchanged_batch_is_one_update_and_writes_no_row(engine, sessions, replica_server):
    config = make_config(replica_server.base_url)
    store_batch(sessions, observe(config, sessions), NOW, CRAWL_EVERY, DETAIL_EVERY)
    later = NOW + timedelta(hours=7)
    again = observe(config, sessions, later)
    assert {o["status"] for o in again} == {"unchanged"} and len(again) == 4  # 304s
    before = row_counts(engine)
    with Statements(engine) as counted:
        outcomes = store_batch(sessions, again, later, CRAWL_EVERY, DETAIL_EVERY)
    assert all(o.error is None and not o.changed and o.events == [] for o in outcomes)
    assert [s for s in counted.sql if s.startswith(("INSERT", "UPDATE", "DELETE"))] == ["UPDATE many"]
    assert counted.commits == 1
    assert row_counts(engine) == before
    with sessions() as s:
        for bill in s.scalars(select(Bill)):
            assert bill.last_checked_at == later and bill.next_check_at == later + CRAWL_EVERY
            assert bill.error_count == 0 and bill.etag


def test_an_unchanged_recrawl_asks_one_request_per_bill_and_writes_no_row(engine, sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    before, served = row_counts(engine), replica.request_count()
    with Statements(engine) as counted:
        again = crawl(config, sessions)
    assert again.errors == [] and again.events == [] and again.checked == 4
    assert replica.request_count() - served == again.checked  # one conditional GET each, answered 304
    assert row_counts(engine) == before
    assert not [s for s in counted.sql if s.startswith(("INSERT", "DELETE"))]
    updates = [s for s in counted.full if s.split(None, 1)[0].upper() == "UPDATE"]
    # the bills' check times only: one statement per batch (an executemany when the batch has several)
    assert updates and all(u.startswith("UPDATE bills SET") for u in updates) and len(updates) <= again.checked


def test_the_reader_thread_takes_what_the_child_says_while_the_parent_is_busy():
    busy, said = threading.Event(), threading.Event()

    def child():
        yield {"bill": "0"}
        assert busy.wait(5)
        yield from ({"bill": str(i)} for i in range(1, 7))
        said.set()

    halt = threading.Event()
    batches = batched(child(), None, halt, most=5)
    assert next(batches) == [{"bill": "0"}]
    busy.set()  # the parent stores its first batch: the child goes on, read by the thread meanwhile
    assert said.wait(5)  # all of it read before the parent asked for the next batch
    assert [[o["bill"] for o in b] for b in batches] == [["1", "2", "3", "4", "5"], ["6"]]
    assert not halt.is_set()


def test_a_parent_that_ends_early_or_is_stopped_halts_the_child():
    def hung_child(halt):
        yield {"bill": "1"}
        while not halt.wait(0.01):  # a child still fetching: ends once it is killed
            pass
        yield {"type": "child-error", "error": "stopped"}

    halt = threading.Event()
    batches = batched(hung_child(halt), None, halt)
    assert next(batches) == [{"bill": "1"}]
    batches.close()
    assert halt.is_set()

    stop, halt = threading.Event(), threading.Event()
    batches = batched(hung_child(halt), stop, halt)
    assert next(batches) == [{"bill": "1"}]
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert next(batches)[-1]["type"] == "child-error"  # the wait for the next observation saw the stop
    assert halt.is_set() and time.monotonic() - started < 3
