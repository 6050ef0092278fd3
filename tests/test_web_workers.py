"""``tracker serve --workers N``: N processes serve the one port; a worker that dies is started again; SIGTERM
stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.alerts_world import add_bill


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def test_serve_with_workers_starts_them_serves_and_stops(tmp_path, db_url, sessions):
    with sessions.begin() as s:
        add_bill(s, "H135")
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_SMTP_URL"} | {"TRACKER_SECRET_KEY": "k" * 32}
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--db", db_url, "serve", "--port", "0",
                             "--workers", "2"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    lines: list[str] = []

    def read():
        for line in proc.stderr:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def serving(count: int, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [x for x in lines if "Serving on" in x]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError("".join(lines))

    try:
        ready = serving(2)
        assert sorted(x.split("worker ")[1].split(",")[0] for x in ready) == ["1 of 2", "2 of 2"], ready
        url = ready[0].split("Serving on ")[1].split()[0]
        workers = {int(x.split("pid ")[1].split(")")[0]) for x in ready}
        assert workers == _children(proc.pid) and len(workers) == 2
        for _ in range(20):
            with urllib.request.urlopen(url + "bills/192/H135", timeout=30) as page:
                assert page.status == 200
        os.kill(sorted(workers)[0], signal.SIGKILL)  # a worker dies: another takes its place
        again = serving(3)
        new = {int(x.split("pid ")[1].split(")")[0]) for x in again} - workers
        assert len(new) == 1 and _children(proc.pid) == (workers - {sorted(workers)[0]}) | new
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()
                       for pid in workers | new)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    assert "Traceback" not in "".join(lines), "".join(lines)


def test_the_workers_share_the_send_rate(sessions):
    from tests.alerts_world import KEY, application, config

    app = application(config(), sessions, KEY)
    whole = app.settings.mail.messages_per_second
    assert app.send_rate.rate == whole
    split = application(config(), sessions, KEY)
    split.send_share = 1 / 4  # what `tracker serve --workers 4` sets in each worker
    assert split.send_rate.rate == whole / 4
