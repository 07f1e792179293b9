"""Schemathesis against /api/v1/openapi.json on a live server, on SQLite and on PostgreSQL:
generated requests, valid and invalid, for every operation, as a kiosk and as a manager. No answer may be a server error,
and every answer must match the schema the document declares for it."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.support.live import LiveServer

EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 20, schemathesis.GenerationMode.NEGATIVE: 8}
ENV = {"MOTCUA_ISSUE_LIMIT_DEVICE": "off", "MOTCUA_ISSUE_LIMIT_ADDRESS": "off", "MOTCUA_DAYEND": "off"}


def run_operations(server: LiveServer, headers: dict) -> list[str]:
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    base_url = server.url + "/api/v1"
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for op in operations:
        for mode, count in EXAMPLES.items():

            @settings(max_examples=count, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode))
            def check(case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, timeout=30,
                                       checks=[not_a_server_error, response_schema_conformance])

            try:
                check()
            except (KeyboardInterrupt, SystemExit):
                raise
            except Unsatisfiable:
                # Nothing invalid can be made of it (e.g. one free-form string in the path).
                assert mode is schemathesis.GenerationMode.NEGATIVE, op.label
            except BaseException as exc:
                failures.append(f"{op.label} [{mode.value}]: {str(exc)[:800]}")
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_api_keeps_its_schema_under_generated_input(live_server_factory, request, database: str) -> None:
    # PostgreSQL refuses text SQLite stores (NUL characters): generated input must meet both.
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    server = live_server_factory(database_url=url, extra_env=ENV)
    demo = server.demo
    failures = run_operations(server, demo.kiosk)
    failures += run_operations(server, demo.manager.headers)
    assert not failures, "\n\n".join(failures)
    # The server is still healthy after all of it.
    import requests

    assert requests.get(server.url + "/healthz", timeout=10).json()["status"] == "ok"
