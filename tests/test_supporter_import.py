"""The supporters' CSV import in batches: the same database as ``subscribe`` row by row, duplicates and bad rows
across batch boundaries, the lines it names, a failing batch, a file it cannot read."""

from __future__ import annotations

import csv
import io
import json
from contextlib import nullcontext
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import false, select, update
from sqlalchemy.exc import OperationalError

import alerts.supporter_import as importer
from alerts.subscribers import BadSubscription, ImportReport, import_csv, subscribe
from db.engine import make_engine, session_factory
from db.migrate import upgrade
from db.models import Event, Legislator, OutboxMessage, Subscriber, Subscription
from tests.alerts_world import CONFIG, NOW, add_bill, config, settings_of
from tracker.cli import main

HEADER = "email,name,bills,frequency,house_district,senate_district\n"

# Every path of a sign-up: new addresses, one already active, one unsubscribed with a topic to take up again,
# duplicates in and across batches (other case, other topics, a frequency), bad rows of every kind, districts
# as people write them, a blank line, a quote left open near the end.
MIXED = HEADER + (
    "ann@example.org,Ann,H.135,weekly,2nd Middlesex,\n"
    "bob@example.org,,,,,\n"
    "not-an-address,Row Four,,,,\n"
    "OLD@example.org,Old Timer,S.47,immediate,,First Suffolk\n"
    "gone@example.org,,H.135 S.47,,,\n"
    "ANN@example.org,,S.47,,,\n"
    "cat@example.org,Cat,H.999,,,\n"
    "dan@example.org,Dan,,hourly,,\n"
    "\n"
    "eve@example.org,Eve,192/S47,daily,Ninetieth Nowhere,\n"
    "fay@example.org,Fay,,,,,surplus\n"
    "bob@example.org,Bob,H.135,,,\n"
    "gus@example.org,Gus,S.47 H.135,immediate,second middlesex,1st suffolk\n"
    "ann@example.org,Ann Again,,daily,,\n"
    "hal@example.org,Hal\n"
    "ivy@example.org,\"Ivy,,,,\n"
    "jon@example.org,Jon,,,,\n"
)


def seed(sessions):
    """Bills, a directory, an event, a supporter still active and one who left (with a topic now inactive)."""
    with sessions.begin() as s:
        h135 = add_bill(s, "H135")
        add_bill(s, "S47")
        s.add_all([Legislator(session=192, member_code="H2M", name="Rep Two", branch="House",
                              district="Second Middlesex", fetched_at=NOW),
                   Legislator(session=192, member_code="S1S", name="Sen One", branch="Senate",
                              district="First Suffolk", fetched_at=NOW)])
        s.add(Event(kind="bill.action", at=NOW, bill_id=h135.id, summary="H135: referred", payload={}))
        old = Subscriber(email="old@example.org", role="supporter", status="active", frequency="daily",
                         source="cli", start_event_id=0, created_at=NOW - timedelta(days=9),
                         confirmed_at=NOW - timedelta(days=9))
        gone = Subscriber(email="gone@example.org", role="supporter", status="unsubscribed", frequency="weekly",
                          name="Gone", source="web", start_event_id=0, created_at=NOW - timedelta(days=9),
                          unsubscribed_at=NOW - timedelta(days=2))
        s.add_all([old, gone])
        s.flush()
        s.add_all([Subscription(subscriber_id=old.id, topic="campaign", active=True, created_at=NOW),
                   Subscription(subscriber_id=gone.id, topic="bill:ma/192/H135", bill_id=h135.id, active=False,
                                created_at=NOW, removed_at=NOW - timedelta(days=2))])


def row_by_row(s, settings, text: str, path: str, *, confirmed: bool) -> ImportReport:
    """The import as it was before the batches (main at 8ee0caa): ``subscribe`` for each row in a savepoint."""
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [h.strip().lower() for h in reader.fieldnames]
    report = ImportReport()
    last = reader.line_num
    for row in reader:
        first, line, last = last + 1, reader.line_num, reader.line_num
        if any("\n" in v or "\r" in v for v in row.values() if isinstance(v, str)):
            report.errors.append(f"{path}:{first}: a quote (\") opened on this line is never closed, so lines "
                                 f"{first}-{line} were read as one row; none of them was imported")
            continue
        if None in row:
            report.errors.append(f"{path}:{line}: more fields than columns")
            continue
        try:
            with s.begin_nested():
                out = subscribe(s, settings, row.get("email") or "", bills=(row.get("bills") or "").split(),
                                name=row.get("name") or None, frequency=(row.get("frequency") or "").strip() or None,
                                house_district=row.get("house_district") or None,
                                senate_district=row.get("senate_district") or None,
                                confirmed=confirmed, source="import", now=NOW)
        except BadSubscription as exc:
            report.errors.append(f"{path}:{line}: {exc}")
            continue
        report.added += out.created
        report.updated += not out.created
        if out.needs_confirmation:
            report.to_confirm.append(out.subscriber.id)
    return report


def state(s) -> dict:
    """Every supporter and topic, ids replaced by their rank (PostgreSQL does not give back the ids of a
    rolled-back transaction, so two runs' ids differ by an offset; their order must not)."""
    subs = list(s.scalars(select(Subscriber).order_by(Subscriber.id)))
    rank = {sub.id: i for i, sub in enumerate(subs)}
    fields = ("email", "name", "role", "status", "frequency", "house_district", "senate_district", "source",
              "start_event_id", "created_at", "confirmed_at", "unsubscribed_at", "bounced_at", "last_error")
    topics = [(rank[t.subscriber_id], t.topic, t.bill_id, t.active, t.created_at, t.removed_at)
              for t in s.scalars(select(Subscription).order_by(Subscription.id))]
    return {"subscribers": [tuple(getattr(sub, f) for f in fields) for sub in subs], "subscriptions": topics,
            "rank": rank}


def outcome(report: ImportReport, rank: dict) -> tuple:
    return report.added, report.updated, report.errors, [rank[i] for i in report.to_confirm]


@pytest.mark.parametrize("confirmed", [True, False])
@pytest.mark.parametrize("batch_rows", [1, 2, 3, 1000])
def test_batches_leave_the_database_subscribe_row_by_row_leaves(sessions, batch_rows, confirmed):
    seed(sessions)
    settings = settings_of(config())
    with sessions() as s:
        # a write first: pysqlite opens its transaction only then, and a SAVEPOINT outside one commits on RELEASE
        s.execute(update(Subscriber).where(false()).values(name=None))
        old = row_by_row(s, settings, MIXED, "people.csv", confirmed=confirmed)
        before = state(s)
        s.rollback()
    with sessions.begin() as s:
        new = importer.import_supporters(lambda: io.StringIO(MIXED), "people.csv", settings, lambda: nullcontext(s),
                                         confirmed=confirmed, now=NOW, batch_rows=batch_rows)
    with sessions() as s:
        after = state(s)
    assert after["subscribers"] == before["subscribers"]
    assert after["subscriptions"] == before["subscriptions"]
    assert outcome(new, after["rank"]) == outcome(old, before["rank"])
    assert [e.split(":")[1] for e in new.errors] == ["4", "8", "9", "11", "12", "17"]  # a quote opened on 17
    assert (new.added, new.updated) == (4, 5)


def test_import_csv_is_the_batched_import_in_the_callers_transaction(sessions):
    seed(sessions)
    settings = settings_of(config())
    with sessions() as s:
        report = import_csv(s, settings, MIXED, "people.csv", confirmed=True, now=NOW)
        s.rollback()  # the caller's to commit or not
    assert (report.added, report.updated, len(report.errors)) == (4, 5, 6)
    with sessions() as s:
        assert s.scalar(select(Subscriber.id).where(Subscriber.email == "ann@example.org")) is None


def test_a_duplicate_in_the_next_batch_updates_the_supporter_the_first_batch_added(sessions):
    text = HEADER + "ann@example.org,Ann,H.135,weekly,,\nbob@example.org,,,,,\nAnn@Example.org,,S.47,,,\n"
    with sessions.begin() as s:
        add_bill(s, "H135")
        add_bill(s, "S47")
    report = importer.import_supporters(lambda: io.StringIO(text), "p.csv", settings_of(config()), sessions.begin,
                                        confirmed=True, now=NOW, batch_rows=2)
    assert (report.added, report.updated, report.errors) == (2, 1, [])
    with sessions() as s:
        [ann] = s.scalars(select(Subscriber).where(Subscriber.email == "ann@example.org"))
        topics = s.scalars(select(Subscription.topic).where(Subscription.subscriber_id == ann.id)
                           .order_by(Subscription.id))
        assert (ann.name, ann.frequency, ann.status) == ("Ann", "weekly", "active")
        assert list(topics) == ["bill:ma/192/H135", "bill:ma/192/S47"]


def test_lines_are_right_after_each_batch_boundary(sessions):
    # batches of 2 records: [2, 3] [4, 5-6] [7, 9] [10, 11]; line 8 is blank, 5-6 one quoted record
    text = HEADER + ("a@example.org,,,,,\n"
                     "b@example.org,,,,,\n"
                     "bad one,,,,,\n"
                     "c@example.org,\"C\nC\",,,,\n"
                     "d@example.org,,,,,\n"
                     "\n"
                     "e@example.org,,H.1,,,\n"
                     "f@example.org,,,,,\n"
                     "g@example.org,,,x,,\n")
    with sessions.begin() as s:
        add_bill(s, "H135")
    report = importer.import_supporters(lambda: io.StringIO(text), "p.csv", settings_of(config()), sessions.begin,
                                        confirmed=True, now=NOW, batch_rows=2)
    assert [e.split(":", 2)[1] for e in report.errors] == ["4", "5", "9", "11"]
    assert "lines 5-6 were read as one row" in report.errors[1]
    assert "H.1" in report.errors[2] and "frequency 'x'" in report.errors[3]
    assert (report.added, report.updated) == (4, 0)


def test_a_bad_row_in_the_second_batch_is_reported_and_the_others_imported(sessions):
    text = HEADER + "a@example.org,,,,,\nb@example.org,,,,,\nc@example.org,,,,,\nnope,,,,,\nd@example.org,,,,,\n"
    report = importer.import_supporters(lambda: io.StringIO(text), "p.csv", settings_of(config()), sessions.begin,
                                        confirmed=True, now=NOW, batch_rows=3)
    assert report.errors == ["p.csv:5: 'nope' is not a valid email address: An email address must have an @-sign."]
    with sessions() as s:
        assert list(s.scalars(select(Subscriber.email).order_by(Subscriber.id))) == [
            "a@example.org", "b@example.org", "c@example.org", "d@example.org"]


def test_a_district_with_a_control_character_is_a_bad_row_not_a_crash(sessions):
    text = HEADER + "a@example.org,,,,Second\x0bMiddlesex,\nb@example.org,,,,,\n"
    with sessions.begin() as s:
        report = import_csv(s, settings_of(config()), text, "p.csv", confirmed=True, now=NOW)
    assert report.added == 1 and len(report.errors) == 1
    assert report.errors[0].startswith("p.csv:2: the House district") and "control character" in report.errors[0]


# -- the command ------------------------------------------------------------------------------------------------


@pytest.fixture
def here(tmp_path, monkeypatch, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_SMTP_URL", raising=False)
    monkeypatch.setenv("TRACKER_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def emails(sessions) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(Subscriber.email).where(Subscriber.role == "supporter").order_by(Subscriber.id)))


def test_a_failing_batch_is_rolled_back_whole_and_the_batches_before_it_stay(here, tmp_path, monkeypatch):
    """Decision: a failed import leaves the rows before the failing batch imported, as if the file ended there;
    the failing batch leaves nothing (not its supporters without their topics); running the file again
    finishes it, updating what is already in."""
    (tmp_path / "people.csv").write_text(HEADER + "".join(f"p{i}@example.org,,H.135,,,\n" for i in range(5)))
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    real, calls = importer.insert_subscriptions, []

    def fail_the_second(s, rows):
        calls.append(rows)
        if len(calls) == 2:  # after the second batch's supporters were inserted
            raise OperationalError("INSERT INTO subscriptions ...", {"email": "p9@example.org"},
                                   Exception("disk I/O error\nDETAIL: p3@example.org"))
        real(s, rows)

    monkeypatch.setattr(importer, "insert_subscriptions", fail_the_second)
    out = run("subscribers", "import", "people.csv")
    assert out.exit_code == 1
    assert "2 added, 0 updated, 0 rows refused; 2 confirmation emails queued" in out.output
    assert "people.csv:4: the import stopped here: Exception: disk I/O error. The rows before line 4 were " \
           "imported" in out.output
    assert "p3@example.org" not in out.output and "p9@example.org" not in out.output  # no one else's address
    assert emails(here) == ["p0@example.org", "p1@example.org"]
    with here() as s:
        assert s.scalar(select(Subscription.id).where(Subscription.subscriber_id.not_in(
            select(Subscriber.id)))) is None
        assert len(list(s.scalars(select(OutboxMessage.id)))) == 2

    monkeypatch.setattr(importer, "insert_subscriptions", real)
    again = run("subscribers", "import", "people.csv")
    assert again.exit_code == 0
    assert "3 added, 2 updated, 0 rows refused; 3 confirmation emails queued" in again.output  # one a day each
    assert emails(here) == [f"p{i}@example.org" for i in range(5)]


def test_confirmations_are_composed_after_every_row_so_a_later_batch_is_in_them(here, tmp_path, monkeypatch):
    (tmp_path / "people.csv").write_text(HEADER + "ann@example.org,Ann,H.135,,,\nbob@example.org,,,,,\n"
                                         "ann@example.org,,S.47,,,\n")
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    out = run("subscribers", "import", "people.csv")
    assert out.exit_code == 0
    assert "2 added, 1 updated, 0 rows refused; 2 confirmation emails queued" in out.output
    with here() as s:
        subjects = list(s.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)))
    assert subjects[0].startswith("Please confirm: alerts about H.135, S.47 ")
    assert subjects[1].startswith("Please confirm: alerts about every bill of the campaign ")


def test_a_file_that_is_not_csv_or_not_utf8_changes_nothing(here, tmp_path):
    # a quote opened on line 3 and never closed swallows more than a field may hold: nothing, not even line 2
    big = HEADER + "a@example.org,,,,,\n\"b@example.org,\n" + "x" * 200_000 + "\n"
    (tmp_path / "big.csv").write_text(big)
    out = run("subscribers", "import", "big.csv", "--confirmed")
    assert out.exit_code == 2 and "big.csv:" in out.output and "nothing was imported" in out.output
    (tmp_path / "latin1.csv").write_bytes(HEADER.encode() + b"a@example.org,,,,,\n" * 3000 + b"b@example.org,Ren\xe9,,,,\n")
    out = run("subscribers", "import", "latin1.csv", "--confirmed")
    assert out.exit_code == 2 and "latin1.csv: cannot read" in out.output
    assert emails(here) == []
    assert json.loads(run("subscribers", "list", "--format", "json").output) == []


# -- the address check's fast path ------------------------------------------------------------------------------

ADDRESS_CHARS = "aZ09.-_+@!#'`~|/=?^{}%&*\" (),:;<>[]\\\tüß"


@pytest.mark.parametrize("text", [
    "Jane.Doe@Example.ORG", "a@xn--bcher-kva.com", "a@localhost", "a@x.invalid", "a@x.local", "a@-x.com",
    "a@x-.com", "a@x..com", ".a@x.com", "a.@x.com", "a..b@x.com", "a@1.2.3.4", "a@x.123", "x" * 65 + "@x.com",
    "a+b/c=d{}|~@x.com", "a@ex_ample.com", "a@" + "x" * 64 + ".com", "a@" + ("x" * 60 + ".") * 5 + "com",
    "y" * 64 + "@" + ("x" * 62 + ".") * 3 + "com", "\"quoted\"@x.com", "a@[127.0.0.1]", "Ann <a@x.com>",
])
def test_the_common_address_shape_is_normalised_as_email_validator_does(text):
    from alerts.addresses import BadAddress, _validated, normalise_email

    try:
        expected = _validated(text)
    except BadAddress as exc:
        with pytest.raises(BadAddress) as got:
            normalise_email(text)
        assert str(got.value) == str(exc)
    else:
        assert normalise_email(text) == expected


def test_any_address_is_normalised_as_email_validator_does():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from alerts.addresses import BadAddress, _validated, normalise_email

    local = st.text(alphabet=ADDRESS_CHARS, min_size=1, max_size=12)
    domain = st.lists(st.text(alphabet="aZ09-_ü", min_size=0, max_size=8), min_size=1, max_size=4).map(".".join)
    tld = st.sampled_from(["org", "COM", "test", "local", "123", "xn--p1ai", "x", ""])
    shaped = st.builds(lambda a, d, t: f"{a}@{d}.{t}".strip() or "x", local, domain, tld)

    @settings(max_examples=1500, derandomize=True, deadline=None)
    @given(st.one_of(shaped, st.text(alphabet=ADDRESS_CHARS, min_size=1, max_size=30).map(lambda t: t.strip() or "x")))
    def same(text):
        try:
            expected = _validated(text)
        except BadAddress:
            expected = None
        try:
            got = normalise_email(text)
        except BadAddress:
            got = None
        assert got == expected, text

    same()
