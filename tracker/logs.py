"""Logging: one line per job with identifiers and counts, as text or as JSON.

A line's fields travel with it as a mapping, given twice to the call: as the message's arguments (the text shows
``key=value``, as users read it) and as ``extra`` (the JSON line carries each as a field, typed: an int stays an
int)::

    fields = {"job": "crawl", "bills": 4, "duration_s": round(duration, 1)}
    log.info("job=%(job)s bills=%(bills)d duration_s=%(duration_s).1f", fields, extra=fields)

A field may not be named like an attribute of ``logging.LogRecord`` (``message``, ``name``, ``args``...: logging
refuses it); ``RESERVED`` lists them, for lines whose keys are not written in the call.

The JSON line is python-json-logger's (a plain ``logging.Formatter`` that writes a record's ``extra`` fields),
shaped as this project's JSON lines always were: ``time`` (UTC, milliseconds), ``level`` (lower case),
``logger``, ``message``, the line's fields, then ``exception`` when there is one.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from pythonjsonlogger.json import JsonFormatter as _JsonLines

RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_NOT_FIELDS = [*RESERVED, "color_message"]  # color_message: uvicorn's message again, in ANSI colours


class JsonFormatter(_JsonLines):
    """``{"time", "level", "logger", "message", ...the line's fields, "exception"}``, one object per line."""

    def __init__(self) -> None:
        super().__init__(["levelname", "name", "message"], json_ensure_ascii=False, reserved_attrs=_NOT_FIELDS,
                         rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"})

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()
        if "exception" in log_data:  # after the fields, where it always was
            log_data["exception"] = log_data.pop("exception")


def joined(values: list, empty: str = "-") -> int | str:
    """A list as one field (``general_courts=193,194``): one value is itself, several are comma-joined, none is
    ``empty``; the value the JSON lines held when they were parsed back out of the text."""
    if len(values) == 1:
        return values[0]
    return ",".join(map(str, values)) or empty


def configure_logging(verbose: bool, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("apscheduler", "scrapy", "urllib3", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
