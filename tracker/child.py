"""Running a spider in a child process (``python -m spiders.crawl_child``).

Scrapy's reactor cannot restart within a process and a hung crawl must be
killable, so every crawl, poll and article fetch runs there. The child streams
JSON observations on stdout; this module yields them as they arrive and kills
the child past its deadline. The request names this process as the parent: a
child whose parent died (``kill -9``) exits by itself.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Iterable

log = logging.getLogger("tracker.child")


def run_spider(spider: str, settings: dict, jobs: list[dict], timeout_s: float,
               stop: threading.Event | None = None, **extra) -> Iterable[dict]:
    """Yield the child's observations; a failure of the child itself ends as one
    ``{"type": "child-error", "error": ...}`` dict. Setting ``stop`` (SIGTERM in
    ``tracker run``) kills the child at once; what it reported before is kept."""
    request = {"spider": spider, "settings": settings, "jobs": jobs, "parent": os.getpid(), **extra}
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "spiders.crawl_child"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 16)
        timed_out, done = threading.Event(), threading.Event()
        stop = stop or threading.Event()
        deadline = time.monotonic() + timeout_s

        def watch():
            while not done.wait(0.2):
                if stop.is_set() or time.monotonic() > deadline:
                    if not stop.is_set():
                        timed_out.set()
                    proc.kill()
                    return

        timer = threading.Thread(target=watch, name=f"{spider}-watchdog", daemon=True)
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
            done.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if stop.is_set():
            yield {"type": "child-error", "error": f"{spider} stopped: the scheduler is shutting down"}
        elif timed_out.is_set():
            yield {"type": "child-error", "error": f"{spider} timed out after {timeout_s:g}s; the child was killed"}
        elif rc != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            yield {"type": "child-error", "error": f"{spider} child exited with status {rc}: {' | '.join(tail)}"}
