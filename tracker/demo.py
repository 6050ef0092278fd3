"""``tracker demo``: the crawl cycle offline, against the bundled replica.

It starts the replica of malegislature.gov on 127.0.0.1, follows H.135 and
S.47 of the 192nd General Court into a fresh demo database, then makes the
replica move (a new action) and crawls again to show the one new event.
"""

from __future__ import annotations

import os
from typing import Callable

from db.engine import make_engine, session_factory
from db.migrate import upgrade
from tracker.config import parse_config
from tracker.crawl import crawl
from tracker.queries import list_bills
from tracker.replica import Replica, ReplicaServer

DEMO_CONFIG = """
campaign:
  name: Regulate face surveillance
sources:
  malegislature:
    session: 192
    delay_s: 0
    concurrency: 4
bills:
  - id: H.135
    keywords: ["face surveillance", "facial recognition"]
  - id: S.47
"""


def run_demo(db_url: str, echo: Callable[[str], None] = print) -> int:
    if db_url.startswith("sqlite:///") and not db_url.endswith(":memory:"):
        path = db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    replica = Replica.bundled()
    with ReplicaServer(replica) as server:
        config = parse_config(DEMO_CONFIG, "demo").with_overrides(base_url=server.base_url)
        echo(f"Replica of malegislature.gov serving at {server.base_url}; database {db_url}\n")

        echo("1. First crawl: every bill is new, its whole history becomes events.")
        first = crawl(config, sessions, on_outcome=lambda o: [echo(f"   {e.kind:18} {e.summary}") for e in o.events
                                                               if e.kind != "bill.action"])
        echo(f"   -> {first.checked} bills checked, {len(first.events)} events "
             f"({sum(e.kind == 'bill.action' for e in first.events)} bill.action)\n")

        echo("2. Second crawl, nothing moved on the site: nothing is written.")
        second = crawl(config, sessions)
        echo(f"   -> {second.checked} bills checked, {len(second.events)} events\n")

        echo("3. The replica moves: H.5091 (the new draft of H.135) gets a hearing.")
        replica.add_action(192, "H5091", "2022-08-15T10:12:00.0000000", "Joint",
                           "Hearing scheduled for 09/13/2022 from 01:00 PM-03:00 PM in Virtual Hearing")
        third = crawl(config, sessions, on_outcome=lambda o: [echo(f"   {e.kind:18} {e.summary}") for e in o.events])
        echo(f"   -> {third.checked} bills checked, {len(third.events)} events\n")

    echo("Tracked bills:")
    with sessions() as s:
        for b in list_bills(s):
            echo(f"   {b['id']:14} {b['status'] or '':12} {b['title'] or ''}")
    errors = first.errors + second.errors + third.errors
    for e in errors:
        echo(f"error: {e.get('bill', '')} {e['url']}: {e['error']}")
    return 1 if errors else 0
