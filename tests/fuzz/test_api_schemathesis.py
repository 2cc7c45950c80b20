"""schemathesis against /api/v1 over real HTTP, with an API token, on a seeded campaign: every operation
(writes included), valid and invalid inputs generated from the app's own OpenAPI schema. No answer may be a
5xx, and every answer must match what the schema documents for it.

The seeded campaign holds what X may really send: hostile names, bios and texts (RTL overrides, zero-width
characters, markup, a NUL), a post from year 1 and one far in the future, so the reads run over odd stored
data too. Path ids are drawn half of the time from the seeded campaign's real ids, so the reads get past 404.
"""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from socap.campaigns.models import CampaignTweet
from socap.monitoring.engine import drive
from socap.monitoring.models import Engagement
from socap.simulator import hours, load_scenario
from tests.alerts.conftest import import_and_sync_seeds
from tests.monitoring.support import create_campaign, memory_queue
from tests.web.support import api_token, make_user

from .conftest import FUZZ
from .mutations import HOSTILE, PageMutator, _dates, _text

SCENARIO = load_scenario("1")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# the SSE streams never end by themselves: tests/web covers them; everything else is fuzzed
STREAMS = re.compile(r"/stream$")
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
# writes last, delete at the very end: the reads see the seeded campaign as it was made
ORDER = {"GET": 0, "PATCH": 1, "POST": 2, "DELETE": 3}


def _seed_odd_data(server, rt) -> int:
    """Scenario 1's campaign after two hours, its first retweets and replies carrying hostile text and dates."""
    import_and_sync_seeds(rt, SCENARIO)
    campaign_id = create_campaign(rt, SCENARIO)
    hostile = PageMutator("GET /2/tweets/:id/retweets", _text(HOSTILE, ["text", "name", "username", "description"]),
                          only_index=False)
    dates = PageMutator("GET /2/tweets/search/recent", _dates(["0001-01-01T00:00:00.000Z",
                                                               "2999-12-31T23:59:59.000Z"], True))
    server.sim.set_mutator(lambda e, url, p: hostile(e, url, p) or dates(e, url, p))
    try:
        drive(rt, memory_queue(rt), until=SCENARIO.build_world().start + hours(2))
    finally:
        server.sim.set_mutator(None)
    return campaign_id


@pytest.fixture
def site(start_simulator, make_runtime, serve_web):
    """(simulator, runtime, the dashboard's URL, an API token of fuzz@example.com): no campaign yet."""
    server = start_simulator(SCENARIO)
    rt = make_runtime(server)
    make_user(rt, "fuzz@example.com")  # the workspace the seeds go into is this user's
    return server, rt, serve_web(rt).url, api_token(rt, "fuzz@example.com")


@pytest.fixture
def api(site):
    server, rt, url, token = site
    campaign_id = _seed_odd_data(server, rt)
    with rt.db.session() as s:
        post_ids = list(s.scalars(select(CampaignTweet.id).where(CampaignTweet.campaign_id == campaign_id)))
        account_ids = list(s.scalars(select(Engagement.account_id).where(Engagement.campaign_id == campaign_id)
                                     .distinct()))
    return {"url": url, "token": token, "campaign_id": campaign_id, "post_ids": post_ids,
            "account_ids": account_ids}


def _operations(api: dict):
    schema = schemathesis.openapi.from_url(api["url"] + "/openapi.json",
                                           headers={"Authorization": f"Bearer {api['token']}"})
    operations = [result.ok() for result in schema.include(path_regex=r"^/api/v1/").get_all_operations()]
    operations = [op for op in operations if not STREAMS.search(op.path)]
    return sorted(operations, key=lambda op: (ORDER.get(op.method.upper(), 2), op.path))


def _real_ids(operation, api) -> st.SearchStrategy[dict]:
    """Path parameters taken from the seeded campaign (so reads and writes reach real rows)."""
    names = {p.name for p in operation.path_parameters}
    values = {"campaign_id": st.just(api["campaign_id"]), "post_id": st.sampled_from(api["post_ids"]),
              "account_id": st.sampled_from(api["account_ids"] or [1])}
    return st.fixed_dictionaries({name: values[name] for name in names if name in values})


def _fuzz(operation, mode: GenerationMode, api: dict, examples) -> str | None:
    """Run ``operation`` for EXAMPLES[mode] cases; the failure (shrunk to its smallest case), or None."""
    headers = {"Authorization": f"Bearer {api['token']}"}
    strategy = operation.as_strategy(generation_mode=mode)
    if operation.path_parameters:
        real = _real_ids(operation, api).flatmap(
            lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids or None))
        strategy = st.one_of(real, strategy)

    @settings(FUZZ, max_examples=EXAMPLES[mode])
    @given(case=strategy)
    def run(case):
        examples(kind=f"{operation.label} {mode.value}")
        response = case.call(base_url=api["url"], headers=headers, timeout=60)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # nothing to get wrong: no parameter and no body (GET /me, GET /campaigns)
        assert mode is GenerationMode.NEGATIVE, operation.label
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation runs; all failures reported
        return f"{operation.label} [{mode.value}]: {type(exc).__name__}: {str(exc)[:1500]}"
    return None


def test_api_v1_never_answers_5xx_and_conforms_to_its_schema(api, examples):
    operations = _operations(api)
    assert len(operations) >= 14, [op.label for op in operations]  # every /api/v1 route but the streams
    failures = [f for op in operations for mode in EXAMPLES if (f := _fuzz(op, mode, api, examples))]
    assert not failures, "\n\n".join(failures)


def test_api_v1_without_a_token_answers_401_on_every_operation(site):
    """The same operations without credentials: refused, never a 5xx and never data."""
    _, _, url, token = site
    api = {"url": url, "token": token}
    for operation in _operations(api):
        path = operation.path
        for name in ("campaign_id", "post_id", "account_id"):
            path = path.replace("{" + name + "}", "1")
        response = httpx.request(operation.method.upper(), api["url"] + path, timeout=30)
        assert response.status_code == 401, (operation.label, response.status_code, response.text[:200])
