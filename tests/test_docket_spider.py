"""The docket spider in its child process (``tracker.child.run_spider("docket", ...)``) against a small
local API started here: a handful of documents, a session the API does not know yet, a detail that
answers "Oh My Cod!", a throttle. (The replica's realistic dockets are tested with the sync.)"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scrapy.http import Request, TextResponse
from twisted.python.failure import Failure

from spiders.docket import HISTORY_PRIORITY, DocketSpider
from spiders.fetching import NotSentThrottled, StopAfterThrottle
from tracker.child import run_spider

API = "/api/GeneralCourts"
JSON = "application/json; charset=utf-8"
OH_MY_COD = (b"<!DOCTYPE html><html><head><title>Oh My Cod! - Massachusetts Legislature</title></head>"
             b"<body><h1>Oh My Cod!</h1><p>Something went wrong.</p></body></html>")


def sponsor(code: str, name: str, kind: int = 1) -> dict:
    return {"Id": code, "Name": name, "Type": kind, "Details": None}


def list_row(number: str | None, docket: str, title: str, lead: dict | None) -> dict:
    return {"BillNumber": number, "DocketNumber": docket, "Title": title, "PrimarySponsor": lead,
            "GeneralCourtNumber": 194, "Details": f"http://malegislature.gov{API}/194/Documents/{number or docket}",
            "IsDocketBookOnly": number is None}


def detail(number: str | None, docket: str, title: str, lead: dict, **extra) -> dict:
    return {"Title": title, "BillNumber": number, "DocketNumber": docket, "GeneralCourtNumber": 194,
            "PrimarySponsor": lead, "JointSponsor": None, "Cosponsors": [lead], "LegislationTypeName": "Bill",
            "Pinslip": None, "DocumentText": None, **extra}


RAMOS = sponsor("O_R1", "Orlando Ramos")
CREEM = sponsor("CSC0", "Cynthia Stone Creem")
FACE = "An Act to implement the recommendations of the special commission on facial recognition technology"


class Site:
    """What the little API answers, path by path, and every request it saw."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def json(self, path: str, value, status: int = 200, **headers) -> None:
        self.routes[path] = (status, {"Content-Type": JSON, **headers}, json.dumps(value).encode())

    def raw(self, path: str, body: bytes, status: int, ctype: str = "text/html; charset=utf-8", **headers) -> None:
        self.routes[path] = (status, {"Content-Type": ctype, **headers}, body)

    def seen(self, prefix: str = "") -> list[str]:
        with self.lock:
            return [p for p, _h in self.requests if p.startswith(prefix)]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        site: Site = self.server.site  # type: ignore[attr-defined]
        with site.lock:
            site.requests.append((self.path, dict(self.headers)))
        status, headers, body = site.routes.get(self.path, (404, {"Content-Type": "text/plain"}, b"no route"))
        if "json" not in (self.headers.get("Accept") or "") and headers.get("Content-Type") == JSON:
            # the real API answers XML unless asked for JSON
            status, headers, body = 200, {"Content-Type": "application/xml"}, b"<ArrayOfDocumentSummary/>"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def site():
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.site = site  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="docket-api", daemon=True)
    thread.start()
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def settings(site: Site, concurrency: int = 4) -> dict:
    return {"base_url": site.base_url, "delay_s": 0, "concurrency": concurrency, "timeout_s": 5,
            "user_agent": "docket-test/1"}


def crawl(site: Site, jobs: list[dict], concurrency: int = 4) -> list[dict]:
    items = list(run_spider("docket", settings(site, concurrency), jobs, timeout_s=60))
    assert not [i for i in items if i["type"] == "child-error"], items
    return items


def serve_the_194th(site: Site) -> None:
    site.json(f"{API}/194/Documents", [
        list_row("H1946", "HD2304", FACE, RAMOS),
        list_row(None, "SD503", "An Act &amp; a  docket", CREEM),
        {"BillNumber": None, "DocketNumber": None, "Title": "nothing to fetch it by"},
    ])
    site.json(f"{API}/195/Documents", {"Message": "Could not locate any public Documents in General Court \"195\""},
              status=400)
    site.raw(f"{API}/196/Documents", OH_MY_COD, 500)
    site.raw(f"{API}/197/Documents", b'<?xml version="1.0"?><ArrayOfDocumentSummary xmlns="urn:x"/>', 200,
             "application/xml")
    site.json(f"{API}/194/Documents/H1946", detail("H1946", "HD2304", FACE, RAMOS,
                                                   Pinslip="By Mr. Ramos, a petition &amp; bill",
                                                   DocumentText="SECTION 1. One.\r\nSECTION 2. Two."))
    site.json(f"{API}/194/Documents/SD503", detail(None, "SD503", "An Act &amp; a docket", CREEM,
                                                   JointSponsor=sponsor("JBE0", "James B. Eldridge")))
    site.raw(f"{API}/194/Documents/H9999", OH_MY_COD, 500)
    site.json(f"{API}/194/Documents/H400", {"Message": "The request is invalid."}, status=400)
    site.json(f"{API}/194/Documents/H1234", detail("H4321", "HD1", "Another bill", RAMOS))


def test_lists_and_details_each_give_one_observation(site):
    serve_the_194th(site)
    jobs = [{"session": 194}, {"session": 195}, {"session": 196}, {"session": 197},
            {"session": 194, "id": "H1946"}, {"session": 194, "id": "H.1946"}, {"session": 194, "id": "SD503"},
            {"session": 194, "id": "H9999"}, {"session": 194, "id": "H400"}, {"session": 194, "id": "H1234"},
            {"session": 194, "id": "Senate 12"}]
    items = crawl(site, jobs)

    lists = {i["session"]: i for i in items if i["type"] == "docket-list"}
    assert sorted(lists) == [194, 195, 196, 197]
    assert all(set(i) == {"type", "session", "url", "status", "http_status", "rows", "problems", "error"}
               for i in lists.values())
    ok = lists[194]
    assert (ok["status"], ok["http_status"], ok["error"], ok["url"]) == \
        ("ok", 200, None, f"{site.base_url}{API}/194/Documents")
    assert [(r["number"], r["docket"], r["docket_book_only"]) for r in ok["rows"]] == \
        [("H1946", "HD2304", False), (None, "SD503", True)]
    assert ok["rows"][1]["title"] == "An Act & a docket" and len(ok["rows"][0]["row_hash"]) == 64
    assert ok["problems"] == [{"url": ok["url"], "error": "row 2: no BillNumber and no DocketNumber"}]
    # a General Court the API does not know yet: 400, or 500 with its "Oh My Cod!" page
    assert [(lists[gc]["status"], lists[gc]["http_status"], lists[gc]["rows"], lists[gc]["error"])
            for gc in (195, 196)] == [("not-yet", 400, [], None), ("not-yet", 500, [], None)]
    assert lists[197]["status"] == "error" and "is XML, not JSON" in lists[197]["error"]

    docs = [i for i in items if i["type"] == "document"]
    assert all(set(d) == {"type", "session", "id", "url", "http_status", "detail", "error"} for d in docs)
    by_id = {d["id"]: d for d in docs}
    assert len(docs) == len(by_id) == 6  # H1946 asked twice (two spellings), fetched and reported once
    h1946 = by_id["H1946"]  # reported under the first spelling asked for
    assert (h1946["error"], h1946["http_status"], h1946["session"]) == (None, 200, 194)
    assert h1946["detail"]["number"] == "H1946" and h1946["detail"]["sponsor_code"] == "O_R1"
    assert h1946["detail"]["text"] == "SECTION 1. One.\nSECTION 2. Two."
    assert h1946["detail"]["pinslip"] == "By Mr. Ramos, a petition & bill"
    sd503 = by_id["SD503"]["detail"]
    assert (sd503["number"], sd503["docket"]) == (None, "SD503")
    assert sd503["joint_sponsors"] == [{"name": "James B. Eldridge", "member_code": "JBE0"}]
    # one document's failure is its own
    assert by_id["H9999"]["detail"] is None and "Oh My Cod" in by_id["H9999"]["error"]
    assert by_id["H9999"]["http_status"] == 500 and by_id["H9999"]["url"].endswith("/194/Documents/H9999")
    assert by_id["H400"]["error"] == "HTTP 400"
    assert by_id["H1234"]["error"] == "asked for H1234, the API answered with H4321 / HD1"
    assert by_id["Senate 12"]["url"] is None and "is not a bill number" in by_id["Senate 12"]["error"]

    # polite: JSON asked for, the configured User-Agent, nothing fetched twice, nothing but what was asked
    assert sorted(site.seen()) == sorted([f"{API}/{gc}/Documents" for gc in (194, 195, 196, 197)]
                                         + [f"{API}/194/Documents/{n}" for n in ("H1946", "SD503", "H9999",
                                                                                 "H400", "H1234")])
    assert all(h.get("Accept") == "application/json" and h.get("User-Agent") == "docket-test/1"
               for _p, h in site.requests)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_429_stops_the_spider_and_says_how_long_to_wait(site, concurrency):
    for n in range(1, 41):
        site.json(f"{API}/194/Documents/H{n}", detail(f"H{n}", f"HD{n}", f"Bill {n}", RAMOS))
    site.json(f"{API}/194/Documents/H3", {"Message": "slow down"}, status=429, **{"Retry-After": "120"})
    items = crawl(site, [{"session": 194, "id": f"H{n}"} for n in range(1, 41)], concurrency)
    throttled = [i for i in items if i["type"] == "throttled"]
    assert throttled == [{"type": "throttled", "session": 194, "id": "H3",
                          "url": f"{site.base_url}{API}/194/Documents/H3",
                          "error": "HTTP 429: the site is throttling us, Retry-After 120 s", "retry_after_s": 120}]
    fetched = [p.rsplit("/", 1)[1] for p in site.seen(f"{API}/194/Documents/")]
    docs = [i for i in items if i["type"] == "document"]
    assert all(d["error"] is None for d in docs)
    # what was reported is what was fetched: a job not reported was not asked for
    assert sorted([d["id"] for d in docs] + ["H3"]) == sorted(fetched)
    if concurrency == 1:
        assert fetched == ["H1", "H2", "H3"]  # nothing at all after the throttle
    else:
        assert len(fetched) <= 3 + concurrency  # only what was on its way when the 429 came


def test_a_503_with_retry_after_on_a_list_is_a_throttle_too(site):
    site.raw(f"{API}/194/Documents", b"Down for maintenance", 503, "text/plain", **{"Retry-After": "600"})
    items = crawl(site, [{"session": 194}, {"session": 194, "id": "H1"}], concurrency=1)
    assert [(i["type"], i["session"], i["id"], i["retry_after_s"]) for i in items if i["type"] == "throttled"] == \
        [("throttled", 194, None, 600)]
    assert not [i for i in items if i["type"] == "docket-list"]
    assert site.seen() == [f"{API}/194/Documents"]


def test_an_unreachable_site_is_an_error_per_job():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = Site()
    dead.base_url = f"http://127.0.0.1:{port}"
    items = crawl(dead, [{"session": 194}, {"session": 194, "id": "H1946"}])
    by_type = {i["type"]: i for i in items}
    assert sorted(by_type) == ["docket-list", "document"]
    assert by_type["docket-list"]["status"] == "error" and by_type["docket-list"]["http_status"] is None
    assert "connection refused" in by_type["docket-list"]["error"]
    assert by_type["document"]["detail"] is None and "connection refused" in by_type["document"]["error"]


def test_after_a_throttle_no_request_is_sent_and_the_dropped_ones_are_not_reported():
    hold = StopAfterThrottle()
    first, later = Request("http://api.test/a"), Request("http://api.test/b")
    assert hold.process_request(first) is None
    ok = TextResponse(first.url, status=200, body=b"[]")
    assert hold.process_response(first, ok) is ok and hold.process_request(later) is None
    busy = TextResponse(first.url, status=503, body=b"busy")  # a 503 without Retry-After is no throttle
    assert hold.process_response(first, busy) is busy and hold.process_request(later) is None
    slow = TextResponse(first.url, status=429, body=b"slow down")
    assert hold.process_response(first, slow) is slow
    with pytest.raises(NotSentThrottled, match="not sent, the site is throttling this crawl: http://api.test/b"):
        hold.process_request(later)
    spider = DocketSpider(base_url="http://api.test", details=[{"session": 194, "id": "H1"}])
    assert list(spider._network_error(Failure(NotSentThrottled("not sent")))) == []


def test_history_jobs_give_one_observation_each_and_a_failure_is_its_own(site):
    site.json(f"{API}/194/Documents/H1946/DocumentHistoryActions", [
        {"Date": "2025-02-27T00:00:00", "Branch": "House", "Action": "Referred to the committee on <a>Education</a>"},
        {"Date": "2025-02-28T10:00:00", "Branch": "Senate", "Action": "Senate concurred", "IsStricken": True},
        {"Date": None, "Branch": "Joint", "Action": "Hearing  scheduled"},
    ])
    site.json(f"{API}/194/Documents/SD503/DocumentHistoryActions", [])
    site.raw(f"{API}/194/Documents/H9999/DocumentHistoryActions", OH_MY_COD, 500)
    site.json(f"{API}/194/Documents/H400/DocumentHistoryActions", {"Message": "The request is invalid."})
    items = crawl(site, [{"session": 194, "id": i, "history": True}
                         for i in ("H1946", "H.1946", "SD503", "H9999", "H400", "Senate 12")])
    assert all(i["type"] == "history" for i in items)
    assert all(set(i) == {"type", "session", "id", "url", "http_status", "actions", "error"} for i in items)
    by_id = {i["id"]: i for i in items}
    assert len(items) == len(by_id) == 5  # H1946 asked twice, fetched once
    assert by_id["H1946"]["actions"] == [
        {"date": "2025-02-27", "branch": "House", "action": "Referred to the committee on Education"},
        {"date": None, "branch": "Joint", "action": "Hearing scheduled"}]  # the stricken row left out
    assert (by_id["H1946"]["error"], by_id["H1946"]["http_status"]) == (None, 200)
    assert by_id["SD503"]["actions"] == [] and by_id["SD503"]["error"] is None
    assert by_id["H9999"]["actions"] is None and "Oh My Cod" in by_id["H9999"]["error"]
    assert by_id["H400"]["actions"] is None and "expected an array" in by_id["H400"]["error"]
    assert by_id["Senate 12"]["url"] is None and "is not a bill number" in by_id["Senate 12"]["error"]
    assert sorted(site.seen()) == sorted(f"{API}/194/Documents/{n}/DocumentHistoryActions"
                                         for n in ("H1946", "SD503", "H9999", "H400"))


def test_a_history_job_beside_a_detail_job_of_one_document_asks_both():
    spider = DocketSpider(base_url="http://x", details=[{"session": 194, "id": "H1946", "history": True},
                                                         {"session": 194, "id": "H1946"}])

    async def requests():
        return [r async for r in spider.start()]

    asked = asyncio.run(requests())
    assert [(r.url.rsplit("/", 1)[1], r.priority) for r in asked] == \
        [("DocumentHistoryActions", HISTORY_PRIORITY), ("H1946", 0)]
    assert HISTORY_PRIORITY < 0  # after any list or detail of the same crawl


# ---------------------------------------------------------------- the Similar list, against the replica


SIMILAR_KEYS = {"type", "session", "id", "url", "http_status", "similar", "problems", "error"}


def test_similar_jobs_against_the_replica_ok_400_and_500():
    from tracker.replica import ReplicaServer
    from tracker.replica.docket import with_dockets

    replica = with_dockets({193: 60, 194: 60})
    replica.fail_similar(194, "H612", 500)
    with ReplicaServer(replica) as srv:
        jobs = [{"session": 194, "id": "H1946", "similar": True}, {"session": 194, "id": "H.1946", "similar": True},
                {"session": 194, "id": "H1946"},  # its detail too: another job
                {"session": 193, "id": "HD2304", "similar": True}, {"session": 194, "id": "S1053", "similar": True},
                {"session": 194, "id": "H612", "similar": True}, {"session": 194, "id": "Senate 12", "similar": True}]
        items = list(run_spider("docket", {"base_url": srv.base_url, "delay_s": 0, "concurrency": 4, "timeout_s": 5,
                                           "user_agent": "docket-test/1"}, jobs, timeout_s=60))
        asked = [p for _m, p, _h in replica.requests]
    assert replica.errors == []
    assert [i for i in items if i["type"] == "document"][0]["detail"]["number"] == "H1946"
    found = [i for i in items if i["type"] == "similar"]
    assert all(set(i) == SIMILAR_KEYS for i in found)
    by_id = {i["id"]: i for i in found}
    assert len(found) == len(by_id) == 5  # H1946 asked twice, fetched once
    ok = by_id["H1946"]
    assert (ok["similar"], ok["error"], ok["http_status"], ok["problems"]) == (
        ["ma/194/S1053", "ma/193/H1728"], None, 200, [])
    assert ok["url"] == f"{srv.base_url}/api/GeneralCourts/194/Documents/H1946/Similar"
    assert by_id["HD2304"]["similar"] == ["ma/193/S927", "ma/192/H135", "ma/194/H1946"]
    # 400: the API's way of saying it has none
    assert (by_id["S1053"]["similar"], by_id["S1053"]["error"], by_id["S1053"]["http_status"]) == ([], None, 400)
    # 500: a failure, in words, for that document alone
    assert by_id["H612"]["similar"] is None and "Oh My Cod" in by_id["H612"]["error"]
    assert by_id["H612"]["http_status"] == 500
    assert by_id["Senate 12"]["url"] is None and "is not a bill number" in by_id["Senate 12"]["error"]
    assert sorted(p for p in asked if p.endswith("/Similar")) == sorted(
        f"/api/GeneralCourts/{p}/Similar" for p in ("194/Documents/H1946", "193/Documents/HD2304",
                                                   "194/Documents/S1053", "194/Documents/H612"))


def test_a_similar_job_throttled_junk_or_unreachable(site):
    site.json(f"{API}/194/Documents/H1/Similar", {"Message": "slow down"}, status=429, **{"Retry-After": "30"})
    site.json(f"{API}/194/Documents/H2/Similar", {"Message": "no list"})
    site.json(f"{API}/194/Documents/H3/Similar", [{"BillNumber": "H9", "GeneralCourtNumber": 193},
                                                  {"BillNumber": "junk", "GeneralCourtNumber": 193}])
    items = crawl(site, [{"session": 194, "id": n, "similar": True} for n in ("H2", "H3")])
    by_id = {i["id"]: i for i in items}
    assert by_id["H2"]["similar"] is None and "expected a list (no list)" in by_id["H2"]["error"]
    assert by_id["H3"]["similar"] == ["ma/193/H9"] and by_id["H3"]["error"] is None
    assert by_id["H3"]["problems"] == [{"url": by_id["H3"]["url"],
                                        "error": "row 1: BillNumber 'junk' is not a bill or docket number"}]
    items = crawl(site, [{"session": 194, "id": "H1", "similar": True}, {"session": 194, "id": "H2", "similar": True}],
                  concurrency=1)
    assert [(i["type"], i["id"], i["retry_after_s"]) for i in items] == [("throttled", "H1", 30)]

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = Site()
    dead.base_url = f"http://127.0.0.1:{port}"
    [gone] = crawl(dead, [{"session": 194, "id": "H1946", "similar": True}])
    assert gone["type"] == "similar" and gone["similar"] is None and "connection refused" in gone["error"]


def test_a_similar_job_has_a_details_priority():
    spider = DocketSpider(base_url="http://x", details=[{"session": 194, "id": "H1946", "history": True},
                                                         {"session": 194, "id": "H1946", "similar": True}])

    async def requests():
        return [r async for r in spider.start()]

    assert [(r.url.rsplit("/", 1)[1], r.priority) for r in asyncio.run(requests())] == \
        [("DocumentHistoryActions", HISTORY_PRIORITY), ("Similar", 0)]
