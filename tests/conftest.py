"""Shared fixtures: a fresh SQLite database per test, and the replica of malegislature.gov."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.engine import make_engine, session_factory
from db.migrate import upgrade

DATA = Path(__file__).parent / "data"


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.sqlite'}"


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
