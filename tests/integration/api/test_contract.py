"""The API keeps its documented contract, run as a client would with
schemathesis, as a researcher, a domain lead and an output checker: no
server error, every answer's status, headers and body as the schema says,
one JSON error shape. Bounded in examples per operation."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings

from accounts.services import api_token_create

EXAMPLES_PER_OPERATION = 12


class _Portal:
    """The portal as a WSGI application, built at the first request (after the
    test session has collected the static files the middleware serves)."""

    handler: WSGIHandler | None = None

    def __call__(self, environ, start_response):
        if self.handler is None:
            self.handler = WSGIHandler()
        return self.handler(environ, start_response)


def _schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))
    loaded.app = _Portal()
    # Input the schema allows can still break a rule the schema cannot state
    # (an end date in the future, a sentence of justification, no NUL
    # characters): it is refused with 400, the field named in "errors".
    acceptance = loaded.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "400"]
    return loaded


schema = _schema()


@pytest.fixture
def tokens(db, persona_world, release):
    """Each persona's API token. Requests run inside the test's transaction:
    the connection is not closed at the end of each one, as Django's own test
    client arranges."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {
        persona: api_token_create(by=persona_world.people[persona], name="contract", lifetime_days=30)[1]
        for persona in ("researcher", "lead", "checker")
    }
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("persona", ["researcher", "lead", "checker"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_contract(case, persona, tokens):
    case.call_and_validate(headers={"Authorization": f"Token {tokens[persona]}"})
