"""What one log line costs in CPU time, from the ``log.info`` call to the line written: the JSON formatter that parsed
``key=value`` back out of the message (before, copied here) against python-json-logger reading the line's
``extra`` fields (after, ``tracker.logs``), with the text line as the baseline of the same run.

    .venv/bin/python bench/log_bench.py [--lines 50000] [--repeat 5]

Two lines: the access line of ``tracker serve`` (one per request) and the crawl job's line.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import time
from datetime import datetime, timezone

from tracker.logs import JsonFormatter


class ParsingJsonFormatter(logging.Formatter):
    """The formatter before python-json-logger: the message's ``key=value`` words parsed back into fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        out = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": message}
        for word in message.split():
            key, eq, value = word.partition("=")
            if eq and key.isidentifier() and key not in out:
                out[key] = _value(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text.strip("'\""))


def access_before(log):
    log.info("access method=%s path=%s status=%d ms=%d client=%s", "GET", "/bills/192/H135?page=2", 200, 12.7,
             "127.0.0.1")


def access_after(log):
    fields = {"method": "GET", "path": "/bills/192/H135?page=2", "status": 200, "ms": int(12.7),
              "client": "127.0.0.1"}
    log.info("access method=%(method)s path=%(path)s status=%(status)d ms=%(ms)d client=%(client)s", fields,
             extra=fields)


def crawl_before(log):
    log.info("job=crawl bills=%d changed=%d events=%d errors=%d duration_s=%.1f", 120, 3, 7, 0, 41.23)


def crawl_after(log):
    fields = {"job": "crawl", "bills": 120, "changed": 3, "events": 7, "errors": 0, "duration_s": round(41.23, 1)}
    log.info("job=%(job)s bills=%(bills)d changed=%(changed)d events=%(events)d errors=%(errors)d "
             "duration_s=%(duration_s).1f", fields, extra=fields)


def run(formatter: logging.Formatter, emit, lines: int) -> tuple[float, str]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    log = logging.getLogger("bench.logs")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    started = time.process_time()
    for _ in range(lines):
        emit(log)
    elapsed = time.process_time() - started
    return elapsed / lines * 1e6, out.getvalue().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    text = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    cases = [("text (baseline)", text, access_before, crawl_before),
             ("json, parsed from the message (before)", ParsingJsonFormatter(), access_before, crawl_before),
             ("json, python-json-logger + extra (after)", JsonFormatter(), access_after, crawl_after)]
    best: dict[tuple[str, int], float] = {}
    for _ in range(args.repeat):  # the cases take turns, so a busy moment of the machine hits each alike
        for name, formatter, access, crawl in cases:
            for i, emit in enumerate((access, crawl)):
                took = run(formatter, emit, args.lines)[0]
                best[name, i] = min(best.get((name, i), took), took)
    print(f"CPU µs per line, best of {args.repeat} x {args.lines:,} lines (ratio to the text line of the same run)")
    print(f"{'formatter':44} {'access line':>18} {'crawl line':>18}")
    for name, *_ in cases:
        a, c = best[name, 0], best[name, 1]
        print(f"{name:44} {a:8.2f} ({a / best[cases[0][0], 0]:4.2f}x) {c:8.2f} ({c / best[cases[0][0], 1]:4.2f}x)")
    for name, formatter, access, crawl in cases[1:]:  # the same fields, whichever way they came
        line = json.loads(run(formatter, access, 1)[1])
        print(name, "->", {k: v for k, v in line.items() if k != "time"})


if __name__ == "__main__":
    main()
