"""Shared fixtures: a fresh database per test -- SQLite, and PostgreSQL when one is available --
and the replica of malegislature.gov.

Every test that asks for ``db_url``, ``engine`` or ``sessions`` runs twice: on SQLite and on
PostgreSQL. The PostgreSQL half needs ``TRACKER_TEST_POSTGRES_URL`` (a server where the user may
create databases; ``.ci/run`` starts a throwaway cluster and sets it); without it that half is
skipped, with the reason in pytest's summary. Each PostgreSQL test gets its own database, copied
from a template migrated once per run.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.engine import make_engine, session_factory
from db.migrate import upgrade

DATA = Path(__file__).parent / "data"
PG_ENV = "TRACKER_TEST_POSTGRES_URL"
PG_SKIP = (f"PostgreSQL half skipped: set {PG_ENV}=postgresql+psycopg://USER@HOST:PORT/postgres "
           "(.ci/run starts a throwaway cluster and sets it)")


@pytest.fixture(scope="session")
def pg_template():
    """(admin URL, template database) or None when no PostgreSQL is configured."""
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"tracker_template_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    template = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    upgrade(template)
    template.dispose()
    yield admin, name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend, tmp_path, pg_template):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.sqlite'}"
        return
    if pg_template is None:
        pytest.skip(PG_SKIP)
    admin, template = pg_template
    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(os.environ[PG_ENV]).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def replica():
    from tracker.replica import Replica

    return Replica.bundled()


@pytest.fixture
def replica_server(replica):
    from tracker.replica import ReplicaServer

    with ReplicaServer(replica) as server:
        yield server


@pytest.fixture
def news():
    from tracker.replica.news_model import NewsReplica

    return NewsReplica.bundled()


@pytest.fixture
def news_server(news):
    from tracker.replica.news_server import NewsServer

    with NewsServer(news) as server:
        yield server


_BACKEND_ID = re.compile(r"[\[-](sqlite|postgresql)[\]-]")


def pytest_terminal_summary(terminalreporter):
    """Say how many database tests ran on each backend, so a log shows both did."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for rep in terminalreporter.stats.get(outcome, []):
            m = _BACKEND_ID.search(getattr(rep, "nodeid", ""))
            if m and (rep.when == "call" or outcome in ("skipped", "error")):
                counts.setdefault(m.group(1), {}).setdefault(outcome, 0)
                counts[m.group(1)][outcome] += 1
    if counts:
        parts = [f"{backend} " + ", ".join(f"{n} {o}" for o, n in sorted(c.items()))
                 for backend, c in sorted(counts.items(), reverse=True)]
        terminalreporter.write_line("database tests by backend: " + "; ".join(parts))
