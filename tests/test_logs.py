"""The JSON log lines: fields travel with the record (``extra``), typed, never parsed back out of the text."""

from __future__ import annotations

import ast
import asyncio
import io
import json
import logging
import re
from pathlib import Path

import httpx

from tracker.cli.serving import AccessLog
from tracker.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[1]


def _lines(emit) -> list[dict]:
    """What ``emit(logger)`` logs, as the JSON lines of ``--log-format json``."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tracker.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_field_arrives_typed_without_being_parsed_from_the_message():
    def emit(log):
        fields = {"job": "crawl", "bills": 12, "duration_s": 0.5, "ok": False, "retry_after_s": None,
                  "error": "RuntimeError: the site said 503"}
        log.info("job=%(job)s bills=%(bills)d", fields, extra=fields)  # the text shows two; the JSON has all six
        log.info("job=poll feeds=3 looks like fields but is only text")

    typed, plain = _lines(emit)
    assert typed["message"] == "job=crawl bills=12"
    assert typed["bills"] == 12 and type(typed["bills"]) is int
    assert typed["duration_s"] == 0.5 and typed["ok"] is False and typed["retry_after_s"] is None
    assert typed["error"] == "RuntimeError: the site said 503"  # whole: a parsed message stopped at the space
    assert "job" not in plain and "feeds" not in plain  # nothing is read back out of a message


def test_the_json_line_keeps_its_shape():
    def emit(log):
        try:
            raise ValueError("bad feed")
        except ValueError:
            log.exception("feed=%(feed)s storing failed", {"feed": "Mass Live – État"},
                          extra={"feed": "Mass Live – État"})

    [line] = _lines(emit)
    assert list(line) == ["time", "level", "logger", "message", "feed", "exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert line["level"] == "error" and line["logger"] == "tracker.test-logs"
    assert line["feed"] == "Mass Live – État" and line["message"] == "feed=Mass Live – État storing failed"
    assert line["exception"].startswith("Traceback") and "ValueError: bad feed" in line["exception"]


def test_an_access_line_carries_its_fields(caplog):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"no"})

    async def get():
        transport = httpx.ASGITransport(app=AccessLog(app), client=("203.0.113.7", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/confirm?token=SECRET&x=1")

    with caplog.at_level(logging.INFO, logger="tracker.access"):
        assert asyncio.run(get()).status_code == 404
    [record] = [r for r in caplog.records if r.name == "tracker.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["message"].startswith("access method=GET path=/confirm?token=…&x=1 status=404 ms=")
    assert (line["method"], line["path"], line["status"], line["client"]) == ("GET", "/confirm?token=…&x=1", 404,
                                                                              "203.0.113.7")
    assert type(line["ms"]) is int and "SECRET" not in json.dumps(line)


_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}
_KEY_VALUE = re.compile(r"(^|\s)[a-z_]+=\S")


def test_every_log_line_that_shows_key_value_passes_its_fields():
    """A line whose text says ``key=%...`` gives its fields as ``extra``: the JSON lines do not parse text."""
    missing = []
    for path in sorted(p for d in ("tracker", "alerts", "spiders", "db") for p in (ROOT / d).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else None
            if isinstance(func, ast.IfExp):  # (log.warning if had else log.info)(...)
                name = getattr(func.body, "attr", None)
            if name in _CALLS and _KEY_VALUE.search(node.args[0].value) \
                    and not any(k.arg == "extra" for k in node.keywords):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert missing == []
