"""The OpenAPI document exercised by schemathesis: whatever it generates, the API answers without a 5xx.
(SQLite only: the same code runs on PostgreSQL in the other web tests; CI time is better spent there.)"""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from db.engine import make_engine, session_factory
from db.migrate import upgrade
from tests.alerts_world import KEY, add_action, add_bill, config, application
from tracker.web.app import create_app


@pytest.fixture(scope="module")
def web_schema(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'tracker.sqlite'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        add_action(s, add_bill(s, "H135"), "Hearing scheduled", ["hearing-scheduled"], date(2021, 11, 16))
    app = create_app(application(config(), sessions, KEY, transport_factory=lambda: None))
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app)
    engine.dispose()


def test_no_request_makes_the_api_fail(web_schema):
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_without_a_server_error(case):
            response = case.call()
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path} {case.query}: {response.status_code} {response.text[:200]}"

        answers_without_a_server_error()
