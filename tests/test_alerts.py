"""Who gets what and when: selection, digests, calls to action, sign-up, tokens, rendering."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from alerts.dispatch import compose_due, dispatch, queue_confirmation
from alerts.ratelimit import TokenBucket
from alerts.subscribers import BadSubscription, confirm, import_csv, subscribe, unsubscribe
from alerts.tokens import BadToken, make_token, read_token
from alerts.transport import MaildirTransport
from db.models import Article, ArticleBill, Bill, Cluster, Event, OutboxMessage, Subscriber, Subscription
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, config, settings_of


def _plain(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _html(msg) -> str:
    return msg.get_body(("html",)).get_content()


def _mail(tmp_path):
    import email
    from email.policy import default

    box = tmp_path / "outbox" / "new"
    if not box.exists():
        return []
    # in the order written: maildir names do not sort by time (their microseconds are not zero-padded)
    files = sorted(box.iterdir(), key=lambda p: (p.stat().st_mtime_ns, int(p.name.split("Q")[1].split(".")[0])))
    return [email.message_from_bytes(p.read_bytes(), policy=default) for p in files]


def _send(cfg, sessions, tmp_path, now=NOW, **kw):
    return dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=now, **kw)


def _article(s, bill, title, publisher, url, cluster=None, at=NOW, matched=True):
    a = Article(url=url, link=url, title=title, publisher=publisher, summary_text="", published_at=at,
                first_seen_at=at, cluster_id=cluster.id if cluster else None)
    s.add(a)
    s.flush()
    s.add(Event(kind="article.new", at=at, occurred_at=at, article_id=a.id, summary=title,
                payload={"url": url, "title": title}))
    if matched:
        s.add(ArticleBill(article_id=a.id, bill_id=bill.id, reason='number "H.135" in title', term="H.135",
                          field="title", kind="number", created_at=at))
        s.add(Event(kind="article.matched", at=at, occurred_at=at, bill_id=bill.id, article_id=a.id,
                    summary=f"H.135 in the news: {title}", payload={"bill": bill.canonical, "url": url}))
    s.flush()
    return a


# -- staff digest -------------------------------------------------------------------------------------------


def _first_sighting(s, number, old_action, on):
    bill = add_bill(s, number)
    s.add(Event(kind="bill.tracked", at=NOW, bill_id=bill.id, summary=f"Now following {number}",
                payload={"status": "in-committee", "reason": "listed in feeds.yaml",
                         "latest_action": {"date": on.isoformat(), "action": old_action}}))
    add_action(s, bill, old_action, ["other"], on)  # the history the first crawl found, seen at the same time
    return bill


def test_the_staff_digest_subject_says_newly_followed_and_counts_the_stories_it_shows(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        h135 = _first_sighting(s, "H135", "Accompanied a new draft, see H5091", date(2022, 7, 26))
        _first_sighting(s, "S47", "Accompanied a study order, see S3063", date(2022, 7, 28))
        _first_sighting(s, "H5091", "Reported favorably", date(2022, 7, 26))
        moving = add_bill(s, "S2904")
        add_action(s, moving, "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
        _article(s, h135, "Lawmakers weigh face surveillance limits", "WWLP", "https://wwlp.example/a")
        old = NOW - timedelta(days=900)  # stored now, published long ago: outside the digest, not counted
        _article(s, h135, "Face surveillance bill filed", "MassLive", "https://masslive.example/old", at=old)
    _send(cfg, sessions, tmp_path, kinds=("staff",))
    [msg] = _mail(tmp_path)
    subject = msg["Subject"]
    assert subject.endswith(": 3 bills newly followed, 1 bill moved, 1 story"), subject
    text = _plain(msg)
    assert "Lawmakers weigh face surveillance limits" in text and "Face surveillance bill filed" not in text


def test_a_first_crawl_alone_is_newly_followed_not_moved(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        for number in ("H135", "S47", "H5091", "S3063"):
            _first_sighting(s, number, "Old action", date(2022, 7, 26))
    _send(cfg, sessions, tmp_path, kinds=("staff",))
    [msg] = _mail(tmp_path)
    assert msg["Subject"].endswith(": 4 bills newly followed, no new story"), msg["Subject"]


def test_the_staff_digest_joins_each_bills_actions_with_its_coverage(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        h135, s47 = add_bill(s, "H135"), add_bill(s, "S47")
        add_action(s, h135, "Reporting date extended to Friday January 15, 2027", ["reporting-date-extended"],
                   date(2026, 11, 28))
        add_action(s, s47, "Senate concurred", ["concurred"], date(2026, 11, 29))
        story = Cluster(title="Lawmakers weigh face surveillance limits", created_at=NOW)
        s.add(story)
        s.flush()
        _article(s, h135, "Lawmakers weigh face surveillance limits", "WWLP", "https://wwlp.example/a", story)
        _article(s, h135, "Lawmakers weigh face surveillance limits", "MassLive", "https://masslive.example/a", story)
        _article(s, h135, "Police chiefs on facial recognition", "Boston Globe", "https://globe.example/b", matched=False)
        add_action(s, h135, "Old history the first crawl found", ["other"], date(2021, 3, 29))
    report = _send(cfg, sessions, tmp_path, kinds=("staff",))
    assert report.composed["staff-daily"] == 1
    [msg] = _mail(tmp_path)
    text = _plain(msg)
    assert msg["To"] == "staff@example.org"
    assert "2 bills moved" in msg["Subject"] and "2 stories" in msg["Subject"]
    h_part = text[text.index("H.135:"):text.index("S.47:")]
    assert "Reporting date extended" in h_part and "Lawmakers weigh face surveillance limits (WWLP)" in h_part
    assert "also in: MassLive" in h_part and h_part.count("Lawmakers weigh") == 1  # one entry per story
    assert "Senate concurred" in text[text.index("S.47:"):]
    assert "Other news" in text and "Police chiefs on facial recognition" in text
    assert "Every source is working." in text
    assert "Old history" not in text  # older than the backfill cap
    # once a day: a second run sends nothing
    again = _send(cfg, sessions, tmp_path, now=NOW + timedelta(hours=3), kinds=("staff",))
    assert sum(again.composed.values()) == 0 and len(_mail(tmp_path)) == 1


def test_the_staff_digest_reports_failing_sources_and_stays_quiet_with_nothing_to_say(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    assert sum(_send(cfg, sessions, tmp_path, kinds=("staff",)).composed.values()) == 0
    with sessions.begin() as s:
        bill = s.scalar(select(Bill))
        bill.error_count, bill.failing_since = 3, NOW - timedelta(hours=26)
        bill.last_error = "https://malegislature.gov/api/...: HTTP 503"
    _send(cfg, sessions, tmp_path, now=NOW + timedelta(days=1), kinds=("staff",))
    [msg] = _mail(tmp_path)
    assert "1 source need attention" in msg["Subject"] and "HTTP 503" in _plain(msg)


def test_staff_can_ask_for_a_digest_even_when_nothing_moved(sessions, tmp_path):
    cfg = config().model_copy(update={"digests": config().digests.model_copy(update={
        "staff": config().digests.staff.model_copy(update={"send_empty": True})})})
    _send(cfg, sessions, tmp_path, kinds=("staff",))
    [msg] = _mail(tmp_path)
    assert "no bill moved" in msg["Subject"] and "Nothing moved since the last digest" in _plain(msg)


def test_no_digest_before_the_configured_hour(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        add_action(s, add_bill(s, "H135"), "Senate concurred", ["concurred"], date(2026, 11, 30))
    early = datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)  # 06:00 in Boston, digest at 07:00
    assert sum(_send(cfg, sessions, tmp_path, now=early, kinds=("staff",)).composed.values()) == 0


# -- supporters ------------------------------------------------------------------------------------------------


def test_a_new_supporter_never_gets_history_and_old_news_is_capped(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        add_action(s, bill, "Before they subscribed", ["other"], date(2026, 11, 30))
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW)
        add_action(s, bill, "Long ago, recorded only now", ["other"], date(2026, 11, 20))
    report = _send(cfg, sessions, tmp_path, kinds=("supporters",))
    assert sum(report.composed.values()) == 0 and _mail(tmp_path) == []
    with sessions.begin() as s:
        add_action(s, s.get(type(bill), bill.id), "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
    _send(cfg, sessions, tmp_path, now=NOW + timedelta(minutes=5), kinds=("supporters",))
    [msg] = _mail(tmp_path)
    text = _plain(msg)
    assert "Reported favorably" in text and "Before they subscribed" not in text and "Long ago" not in text
    assert msg["Subject"] == "H.135: reported favorably"


def test_a_bill_seen_for_the_first_time_appears_once_as_tracked(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW - timedelta(hours=1))
        bill = add_bill(s, "H135")
        s.add(Event(kind="bill.tracked", at=NOW, bill_id=bill.id, summary="Now following H.135",
                    payload={"status": "in-committee", "reason": "listed in feeds.yaml",
                             "latest_action": {"date": "2026-11-29", "action": "Hearing scheduled for 12/10/2026"}}))
        add_action(s, bill, "Hearing scheduled for 12/10/2026", ["hearing-scheduled"], date(2026, 11, 29))
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    text = _plain(msg)
    assert "The campaign now follows this bill. It is in committee" in text and "feeds.yaml" not in text
    assert text.count("Hearing scheduled for 12/10/2026") == 1
    assert msg["Subject"] == "H.135: now followed"
    with sessions() as s:  # the history of that crawl is in the ledger too: it will not come later
        assert s.scalar(select(OutboxMessage.events)) == 1
        assert len(list(s.scalars(select(Event.id)))) == 2


def test_daily_supporters_get_one_digest_a_day_and_urgent_news_at_once(sessions, tmp_path):
    cfg = config()
    before_seven = datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "daily@example.org", frequency="daily", confirmed=True, now=before_seven - timedelta(days=1))
        bill = add_bill(s, "H135")
        add_action(s, bill, "Reporting date extended", ["reporting-date-extended"], date(2026, 11, 29),
                   at=before_seven)
        add_hearing(s, bill, before_seven + timedelta(hours=30), at=before_seven)
    first = _send(cfg, sessions, tmp_path, now=before_seven, kinds=("supporters",))
    assert dict(first.composed) == {"urgent": 1}
    [urgent] = _mail(tmp_path)
    assert urgent["Subject"].startswith("H.135: hearing scheduled for Dec 1")
    assert "Reporting date extended" not in _plain(urgent) and "ACT NOW" in _plain(urgent)
    digest = _send(cfg, sessions, tmp_path, now=before_seven + timedelta(hours=2), kinds=("supporters",))
    assert dict(digest.composed) == {"daily": 1}
    daily = _mail(tmp_path)[1]
    assert daily["Subject"].startswith("Your daily update: H.135")
    assert "Reporting date extended" in _plain(daily) and "Hearing scheduled" not in _plain(daily)
    with sessions.begin() as s:
        add_action(s, s.get(type(bill), bill.id), "Senate concurred", ["concurred"], date(2026, 11, 30),
                   at=before_seven + timedelta(hours=3))
    later = _send(cfg, sessions, tmp_path, now=before_seven + timedelta(hours=4), kinds=("supporters",))
    assert sum(later.composed.values()) == 0  # waits for tomorrow's digest
    tomorrow = _send(cfg, sessions, tmp_path, now=before_seven + timedelta(days=1, hours=2), kinds=("supporters",))
    assert dict(tomorrow.composed) == {"daily": 1}


def test_weekly_supporters_hear_on_their_day(sessions, tmp_path):
    cfg = config()
    sunday = datetime(2026, 11, 29, 15, 0, tzinfo=timezone.utc)
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "weekly@example.org", frequency="weekly", confirmed=True, now=sunday - timedelta(days=3))
        add_action(s, add_bill(s, "H135"), "Senate concurred", ["concurred"], date(2026, 11, 25),
                   at=sunday - timedelta(days=2))
    assert dict(_send(cfg, sessions, tmp_path, now=sunday, kinds=("supporters",)).composed) == {"weekly": 1}
    # that was last week's (Monday Nov 23) digest; this week's starts Monday 07:00
    assert sum(_send(cfg, sessions, tmp_path, now=sunday + timedelta(hours=10), kinds=("supporters",))
               .composed.values()) == 0
    periods = [m.period for m in _rows(sessions)]
    assert periods == ["week-of-2026-11-23"]


def _rows(sessions):
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_supporters_of_a_bill_follow_its_new_draft(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True, now=NOW)
        add_bill(s, "H135", status="replaced")
        draft = add_bill(s, "H5091", status="in-committee", committee="House Ways and Means")
        s.add(Event(kind="bill.tracked", at=NOW - timedelta(minutes=1), bill_id=draft.id, summary="Now following",
                    payload={"status": "in-committee", "reason": "new draft of H.135",
                             "discovered_from": {"bill": "ma/192/H135", "reason": "new-draft"}}))
        add_action(s, draft, "Bill reported favorably by committee", ["reported-favorably"], date(2026, 11, 30))
        add_action(s, add_bill(s, "S47"), "Senate concurred", ["concurred"], date(2026, 11, 30))
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    assert "H.5091" in msg["Subject"] and "S.47" not in _plain(msg)


def test_an_alert_asks_supporters_to_act(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True,
                  now=NOW)  # a bill of the 194th: in 2026 the 192nd's bills are dead and ask nothing
        bill = add_bill(s, "H135", session=194, sponsor="David M. Rogers")
        add_hearing(s, bill, NOW + timedelta(days=10), location="Room A-2")
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    text = _plain(msg)
    assert "Testify at the hearing" in text and "Room A-2" in text and "written testimony" in text
    assert "Call the chairs of the committee on the Judiciary" in text
    assert "You get this because you follow every bill of the" in text
    assert "Take action: https://example.org/act" in text
    html = _html(msg)
    assert 'href="https://example.org/act"' in html and "style=" in html and "<style" not in html  # CSS inlined


def test_every_supporter_email_unsubscribes_in_one_click(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True, now=NOW)
        add_action(s, add_bill(s, "H135"), "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
    dispatch(settings_of(cfg, KEY, public_url="https://alerts.example.org"), sessions,
             MaildirTransport(tmp_path / "outbox"), now=NOW, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    links = msg["List-Unsubscribe"]
    assert links.startswith("<https://alerts.example.org/unsubscribe?token=")
    assert "<mailto:unsubscribe@example.org?subject=unsubscribe%20" in links
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == '"Regulate face surveillance" <regulate-face-surveillance.example.org>'
    raw = sorted((tmp_path / "outbox" / "new").iterdir())[0].read_bytes()
    assert b"\r\nList-Unsubscribe: <https://alerts.example.org/unsubscribe?token=" in raw  # plain ASCII, not RFC 2047
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    token = links.split("token=", 1)[1].split(">", 1)[0]
    for part in (_plain(msg), _html(msg)):
        assert "https://alerts.example.org/preferences?token=" in part
        assert "https://alerts.example.org/unsubscribe?token=" in part
    with sessions.begin() as s:
        sub, topic = unsubscribe(s, KEY, token, NOW)
        assert sub.status == "unsubscribed" and topic is None


def test_html_in_the_data_is_escaped_in_the_email(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True,
                  name="<b>Jane</b>", now=NOW)
        bill = add_bill(s, "H135", title="An Act <script>alert(1)</script>")
        _article(s, bill, "<img src=x onerror=alert(1)> wins", "WWLP", "https://wwlp.example/x")
        add_action(s, bill, "Reported <i>favorably</i>", ["reported-favorably"], date(2026, 11, 30))
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    html = _html(msg)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html and "<i>favorably" not in html


def test_templates_can_be_overridden_by_a_folder(sessions, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "alert.txt").write_text("Custom text for {{ groups[0].bill.number }}\n{{ unsubscribe_url }}\n")
    cfg = config(f"  templates: {folder}\n")
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW)
        add_action(s, add_bill(s, "H135", session=194), "Reported favorably", ["reported-favorably"],
                   date(2026, 11, 30))  # a live bill (the 192nd's are dead in 2026 and ask nothing)
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    assert _plain(msg).startswith("Custom text for H.135") and "What you can do now" in _html(msg)


def test_a_dry_run_says_who_would_get_what_and_records_nothing(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW)
        add_action(s, add_bill(s, "H135"), "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
    report = _send(cfg, sessions, tmp_path, dry_run=True)
    assert sorted((p["to"], p["kind"]) for p in report.planned) == [("jane@example.org", "alert"),
                                                                     ("staff@example.org", "staff-daily")]
    assert _rows(sessions) == [] and _mail(tmp_path) == []
    assert sum(_send(cfg, sessions, tmp_path).composed.values()) == 2


# -- sign-up ----------------------------------------------------------------------------------------------------


def test_sign_up_is_double_opt_in_and_confirming_is_idempotent(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
        out = subscribe(s, settings_of(cfg), "Jane@EXAMPLE.org", bills=["h135"], name="Jane Doe", now=NOW)
        assert out.created and out.needs_confirmation and out.subscriber.status == "pending"
        assert out.subscriber.email == "jane@example.org" and out.topics_added == ["bill:ma/192/H135"]
        queue_confirmation(s, settings_of(cfg, KEY), out.subscriber, NOW)
        assert queue_confirmation(s, settings_of(cfg, KEY), out.subscriber, NOW) is None  # one a day at most
    _send(cfg, sessions, tmp_path, kinds=())
    [msg] = _mail(tmp_path)
    assert msg["Subject"].startswith("Please confirm") and msg["To"] == "Jane Doe <jane@example.org>"
    token = _plain(msg).split("/confirm?token=", 1)[1].split()[0]
    with sessions.begin() as s:
        assert confirm(s, KEY, token, NOW + timedelta(hours=1)).status == "active"
        assert confirm(s, KEY, token, NOW + timedelta(hours=2)).status == "active"
        first = s.scalar(select(Subscriber.confirmed_at))
    assert first == NOW + timedelta(hours=1)
    with sessions.begin() as s:  # re-subscribing a confirmed address never downgrades it
        again = subscribe(s, settings_of(cfg), "jane@example.org", bills=["S.47"], now=NOW + timedelta(days=1))
        assert not again.needs_confirmation and again.subscriber.status == "active"
        assert again.topics_added == ["bill:ma/192/S47"]


def test_tokens_are_signed_expiring_and_single_purpose():
    token = make_token(KEY, "confirm", 7, NOW)
    assert read_token(KEY, token, "confirm", NOW)["s"] == 7
    with pytest.raises(BadToken, match="signature"):
        read_token(b"another key", token, "confirm", NOW)
    body, sig = token.split(".")
    forged = make_token(KEY, "confirm", 8, NOW).split(".")[0] + "." + sig
    with pytest.raises(BadToken, match="signature"):
        read_token(KEY, forged, "confirm", NOW)
    with pytest.raises(BadToken, match="expired"):
        read_token(KEY, token, "confirm", NOW + timedelta(days=8))
    with pytest.raises(BadToken, match="^this link is for another page$"):  # its purposes are not shown
        read_token(KEY, token, "unsubscribe", NOW)
    for junk in ("", "abc", "a.b", "." * 3000):
        with pytest.raises(BadToken):
            read_token(KEY, junk, "confirm", NOW)


def test_bad_sign_up_input_is_refused_with_the_reason(sessions):
    cfg = config()
    with sessions.begin() as s:
        with pytest.raises(BadSubscription, match="not a valid email address"):
            subscribe(s, settings_of(cfg), "not-an-address", now=NOW)
        with pytest.raises(BadSubscription, match="line break"):
            subscribe(s, settings_of(cfg), "jane@example.org", name="Jane\r\nBcc: victim@example.org", now=NOW)
        with pytest.raises(BadSubscription, match="line break"):
            subscribe(s, settings_of(cfg), "jane@example.org\r\nBcc: x@example.org", now=NOW)
        with pytest.raises(BadSubscription, match="not a bill this campaign follows; did you mean ma/192/H135"):
            subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.136"], now=NOW)
        with pytest.raises(BadSubscription, match="frequency 'hourly'"):
            subscribe(s, settings_of(cfg), "jane@example.org", frequency="hourly", now=NOW)
        assert s.scalar(select(Subscriber.id)) is None


def test_per_topic_unsubscribe_keeps_the_other_topics(sessions):
    cfg = config()
    with sessions.begin() as s:
        sub = subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135", "S.47"], confirmed=True, now=NOW).subscriber
        token = make_token(KEY, "unsubscribe", sub.id, NOW, t="bill:ma/192/H135")
        _, topic = unsubscribe(s, KEY, token, NOW)
        assert topic == "bill:ma/192/H135" and sub.status == "active"
        active = list(s.scalars(select(Subscription.topic).where(Subscription.active.is_(True))))
        assert active == ["bill:ma/192/S47"]
        last = make_token(KEY, "unsubscribe", sub.id, NOW, t="bill:ma/192/S47")
        assert unsubscribe(s, KEY, last, NOW)[1] is None and sub.status == "unsubscribed"  # nothing left


def test_import_reports_bad_rows_by_line_and_imports_the_rest(sessions):
    cfg = config()
    text = ("email,name,bills,frequency,house_district,senate_district\n"
            "ann@example.org,Ann,H.135 S.47,weekly,,\n"
            "broken-address,Bob,,daily,,\n"
            "cat@example.org,Cat,,,,\n"
            "dan@example.org,Dan,H.999,daily,,\n")
    with sessions.begin() as s:
        report = import_csv(s, settings_of(cfg), text, "people.csv", confirmed=True, now=NOW)
    assert report.added == 2 and report.to_confirm == []
    assert [e.split(":")[:2] for e in report.errors] == [["people.csv", "3"], ["people.csv", "5"]]
    with sessions() as s:
        rows = {sub.email: sub for sub in s.scalars(select(Subscriber))}
        assert rows["ann@example.org"].frequency == "weekly" and rows["ann@example.org"].status == "active"
        assert rows["cat@example.org"].frequency == "daily"
    with sessions.begin() as s:
        unconfirmed = import_csv(s, settings_of(cfg), "email\neve@example.org\n", "more.csv", confirmed=False, now=NOW)
        assert len(unconfirmed.to_confirm) == 1
    with sessions.begin() as s, pytest.raises(BadSubscription, match="unknown column 'phone'"):
        import_csv(s, settings_of(cfg), "email,phone\nx@example.org,1\n", "bad.csv", confirmed=True, now=NOW)


def test_the_token_bucket_paces_sending():
    clock = [0.0]
    slept = []

    def sleep(d):
        slept.append(d)
        clock[0] += d

    bucket = TokenBucket(10, burst=2, clock=lambda: clock[0], sleep=sleep)
    for _ in range(12):
        bucket.take()
    assert abs(clock[0] - 1.0) < 1e-9  # 2 at once, then 10 more at 10/s


def test_a_bucket_given_max_wait_refuses_rather_than_waits_longer():
    clock = [0.0]

    def sleep(d):
        clock[0] += d

    bucket = TokenBucket(10, burst=1, clock=lambda: clock[0], sleep=sleep)
    assert bucket.take(max_wait=0) == 0.0
    assert bucket.take(max_wait=0.05) is None and clock[0] == 0.0  # the next token comes in 0.1 s: none taken
    assert bucket.take(max_wait=0.1) == pytest.approx(0.1) and clock[0] == pytest.approx(0.1)


def test_threads_sharing_one_bucket_keep_to_its_rate_together():
    import threading
    import time

    bucket = TokenBucket(40, burst=1)  # 20 takes: one at once, 19 more at 40 a second
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [bucket.take() for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 19 / 40 - 0.01


def test_every_delivery_of_an_application_takes_from_its_one_send_rate(sessions, tmp_path, monkeypatch):
    import tracker.application as composition
    from tests.alerts_world import application

    buckets = []
    monkeypatch.setattr(composition, "deliver_outbox", lambda settings, sessions, transport, **options:
                        buckets.append(options["bucket"]))
    app = application(config(), sessions, transport_factory=lambda: MaildirTransport(tmp_path))
    app.deliver(only_ids=[1], max_wait=1.0)  # a page's
    app.deliver()  # the scheduler's
    assert buckets[0] is buckets[1] is app.send_rate and app.send_rate.rate == 1000


def test_compose_due_keeps_going_past_one_recipients_bad_data(sessions, tmp_path, monkeypatch):
    cfg = config()
    with sessions.begin() as s:
        for who in ("ann", "bob"):
            subscribe(s, settings_of(cfg), f"{who}@example.org", frequency="immediate", confirmed=True, now=NOW)
        add_action(s, add_bill(s, "H135"), "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
    from alerts import compose

    real = compose.Composer.supporter

    def flaky(self, sub, *a, **kw):
        if sub.email.startswith("ann"):
            raise RuntimeError("template exploded")
        return real(self, sub, *a, **kw)

    monkeypatch.setattr(compose.Composer, "supporter", flaky)
    report = compose_due(settings_of(cfg, KEY), sessions, NOW, kinds=("supporters",))
    assert report.composed["alert"] == 1 and "template exploded" in report.errors[0]["error"]
    with sessions() as s:
        assert [m.to_addr for m in s.scalars(select(OutboxMessage))] == ["bob@example.org"]


def test_asks_name_the_chairs_and_thank_legislators_who_cosponsored(sessions, tmp_path):
    from db.models import Committee, Legislator

    cfg = config()
    with sessions.begin() as s:
        for code, name, branch, district in (("MSD1", "Michael S. Day", "House", "Thirty-First Middlesex"),
                                             ("JBE0", "James B. Eldridge", "Senate", "Middlesex and Worcester"),
                                             ("DMR1", "David M. Rogers", "House", "Twenty-Fourth Middlesex")):
            s.add(Legislator(session=194, member_code=code, name=name, branch=branch, district=district,
                             phone="617-555-0100", email=f"{code.lower()}@example.org", fetched_at=NOW))
        s.add(Committee(session=194, code="J19", full_name="Joint Committee on the Judiciary", branch="Joint",
                        house_chair_code="MSD1", senate_chair_code="JBE0", fetched_at=NOW))
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True,
                  now=NOW, house_district="24th middlesex", senate_district="Middlesex & Worcester")
        bill = add_bill(s, "H135", session=194, sponsor="David M. Rogers", sponsor_code="DMR1",
                        petitioners=[{"name": "David M. Rogers", "member_code": "DMR1"}])
        add_action(s, bill, "Bill reported favorably by committee", ["reported-favorably"], date(2026, 11, 30))
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    text = _plain(msg)
    chairs = text[text.index("Call the chairs of the Joint Committee on the Judiciary"):]
    assert chairs.index("Michael S. Day (House chair") < chairs.index("James B. Eldridge (Senate chair")
    assert "Thank the sponsor. David M. Rogers filed H.135" in text
    assert "Thank your legislators. They co-sponsored H.135" in text
    thanks = text[text.index("Thank your legislators"):]
    assert "David M. Rogers (your representative, Twenty-Fourth Middlesex)" in thanks
    assert "Write to your legislators" in text and "James B. Eldridge (your senator" in text


def test_a_story_matched_to_a_bill_and_its_successor_is_told_once_in_an_alert(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        h135, h1728 = add_bill(s, "H135"), add_bill(s, "H1728", session=193)
        subscribe(s, settings_of(cfg, KEY), "jo@example.org", frequency="immediate",
                  confirmed=True, now=NOW - timedelta(hours=1))
        a = _article(s, h135, "Face surveillance bill is back", "WWLP", "https://wwlp.example/back")
        s.add(ArticleBill(article_id=a.id, bill_id=h1728.id, reason='"face surveillance" in title',
                          term="face surveillance", field="title", kind="keyword", created_at=NOW))
        s.add(Event(kind="article.matched", at=NOW, occurred_at=NOW, bill_id=h1728.id, article_id=a.id,
                    summary="H.1728 in the news: Face surveillance bill is back",
                    payload={"bill": h1728.canonical, "url": a.url}))
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [mail] = _mail(tmp_path)
    text = mail.get_body(("plain",)).get_content()
    assert text.count("Face surveillance bill is back") == 1
    assert "H.1728:" not in text  # nothing else to say about it: no empty heading


def _directory(s, session: int):
    from db.models import Committee, Legislator

    for code, name, branch, district in (("MSD1", "Michael S. Day", "House", "Thirty-First Middlesex"),
                                         ("JBE0", "James B. Eldridge", "Senate", "Middlesex and Worcester"),
                                         ("DMR1", "David M. Rogers", "House", "Twenty-Fourth Middlesex"),
                                         ("AMM1", "Aaron Michlewitz", "House", "Third Suffolk")):
        s.add(Legislator(session=session, member_code=code, name=name, branch=branch, district=district,
                         phone="617-555-0100", email=f"{code.lower()}@example.org", fetched_at=NOW))
    s.add(Committee(session=session, code="J19", full_name="Joint Committee on the Judiciary", branch="Joint",
                    house_chair_code="MSD1", senate_chair_code="JBE0", fetched_at=NOW))
    s.add(Committee(session=session, code="H33", full_name="House Committee on Ways and Means", branch="House",
                    house_chair_code="AMM1", fetched_at=NOW))


def _history(s, bill, rows):
    from db.models import BillAction

    out = []
    for i, (branch, text, kinds) in enumerate(rows):
        out.append(BillAction(bill_id=bill.id, position=i, occurrence=0, date=date(2026, 11, 1 + i), branch=branch,
                              action=text, kinds=kinds, first_seen_at=NOW))
        s.add(out[-1])
    s.flush()
    return out


def test_a_hearing_on_a_live_bill_names_both_chairs_of_the_joint_committee_and_her_own_legislators(sessions,
                                                                                                    tmp_path):
    from db.models import Hearing

    cfg = config()
    with sessions.begin() as s:
        _directory(s, 194)
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW,
                  house_district="24th middlesex", senate_district="Middlesex & Worcester")
        bill = add_bill(s, "H1946", session=194, committee="House Ways and Means", sponsor="David M. Rogers",
                        sponsor_code="DMR1", petitioners=[{"name": "David M. Rogers", "member_code": "DMR1"}])
        rows = _history(s, bill, [
            ("House", "Referred to the committee on The Judiciary", ["referral"]),
            ("Joint", "Hearing scheduled for 12/10/2026 from 01:00 PM-03:00 PM in Virtual Hearing",
             ["hearing-scheduled"]),
            ("House", "Bill reported favorably by committee and referred to the committee on House Ways and Means",
             ["referral", "reported-favorably"])])
        add_hearing(s, bill, NOW + timedelta(days=10))
        s.scalar(select(Hearing).where(Hearing.bill_id == bill.id)).action_id = rows[1].id
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    text = " ".join(_plain(msg).split())
    testify = text[text.index("Testify at the hearing."):text.index("Call the chairs")]
    assert "The Joint Committee on the Judiciary hears H.1946" in testify
    assert "Michael S. Day (House chair, Thirty-First Middlesex), 617-555-0100, msd1@example.org" in testify
    assert "James B. Eldridge (Senate chair, Middlesex and Worcester), 617-555-0100, jbe0@example.org" in testify
    assert "before the hearing" in testify and "Ways and Means" not in testify
    assert "Thank your legislators. They co-sponsored H.1946" in text and "David M. Rogers (your representative" in text
    write = text[text.index("Write to your legislators"):]
    assert "James B. Eldridge (your senator" in write and "David M. Rogers" not in write
    for word in ("feeds.yaml", "tracker ", "hearing.scheduled", "bill.action"):
        assert word not in text


@pytest.mark.parametrize("accepted", [False, True])
def test_an_action_on_a_dead_bill_offers_no_testimony_and_says_what_ended(sessions, tmp_path, accepted):
    from db.models import Successor

    cfg = config()
    with sessions.begin() as s:
        _directory(s, 192)
        _directory(s, 194)
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW,
                  house_district="24th middlesex", senate_district="Middlesex & Worcester")
        dead = add_bill(s, "H5091", status="dead", committee="House Ways and Means")
        add_hearing(s, dead, NOW + timedelta(days=10))  # a hearing row for a bill whose General Court is over
        add_action(s, dead, "Bill reported favorably by committee", ["reported-favorably"], date(2026, 11, 30))
        if accepted:
            add_bill(s, "H1946", session=194, committee="The Judiciary")
            s.add(Successor(bill="ma/192/H5091", candidate="ma/194/H1946", session=194, rank=1, score=0.9,
                            evidence={}, state="accepted", decided_by="staff", decided_at=NOW, found_at=NOW))
    _send(cfg, sessions, tmp_path, kinds=("supporters",))
    [msg] = _mail(tmp_path)
    text = " ".join(_plain(msg).split())
    assert "Testify" not in text and "Thank the sponsor" not in text
    assert "The 192nd General Court ended on Jan 4, 2023; this bill died with it." in text
    assert "in the House Committee on Ways and Means" not in text  # a dead bill is in no committee
    if accepted:
        assert "It continues as H.1946 in the 194th General Court" in text
        asks = text[text.index("What you can do now for H.1946:"):]
        assert "Call the chairs of the Joint Committee on the Judiciary. Ask them to report H.1946 favorably" in asks
        assert "Write to your legislators. Ask them to support H.1946" in asks and "H.5091" not in asks
    else:
        assert "continues as" not in text and "What you can do now" not in text
