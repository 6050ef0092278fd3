"""Running a spider in a child process (``python -m spiders.crawl_child``).

Scrapy's reactor cannot restart within a process and a hung crawl must be
killable, so every crawl, poll and article fetch runs there. The child streams
JSON observations on stdout; this module yields them as they arrive and kills
the child past its deadline.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import threading
from typing import Iterable

log = logging.getLogger("tracker.child")


def run_spider(spider: str, settings: dict, jobs: list[dict], timeout_s: float, **extra) -> Iterable[dict]:
    """Yield the child's observations; a failure of the child itself ends as one
    ``{"type": "child-error", "error": ...}`` dict."""
    request = {"spider": spider, "settings": settings, "jobs": jobs, **extra}
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "spiders.crawl_child"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 16)
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            assert proc.stdin and proc.stdout
            proc.stdin.write(json.dumps(request).encode())
            proc.stdin.close()
            for line in proc.stdout:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    log.warning("%s child printed a non-JSON line: %r", spider, line[:200])
            rc = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if timed_out.is_set():
            yield {"type": "child-error", "error": f"{spider} timed out after {timeout_s:g}s; the child was killed"}
        elif rc != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            yield {"type": "child-error", "error": f"{spider} child exited with status {rc}: {' | '.join(tail)}"}
