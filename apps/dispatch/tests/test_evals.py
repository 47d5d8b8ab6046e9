"""The assistant's evaluation in the test suite: the corpus is well formed, and every scenario marked
``suite: true`` passes every one of its checks through the real SMS path (signed webhooks, the
inbound task, the rule-based engine, the outbox, the Twilio stand-in) under its frozen clock.

Only scenarios that pass today are marked; the whole corpus, with its failures, is
``manage.py assistant_eval`` (docs/evals.md). The five eval businesses are made once per session.
"""

from collections import Counter

import pytest
from django.db import connection

from apps.dispatch.evals.businesses import businesses_ensure
from apps.dispatch.evals.corpus import CATEGORIES, load_corpus
from apps.dispatch.evals.report import render_result
from apps.dispatch.evals.runner import EvalRunner

CORPUS = load_corpus()
SUITE = CORPUS.select(suite_only=True)


def test_the_corpus_covers_what_issue_10_asks():
    scenarios = CORPUS.scenarios
    assert len(scenarios) >= 150
    assert {spec.trade for spec in CORPUS.businesses.values()} == {
        "plumbing",
        "electrical",
        "hvac",
        "locksmith",
        "garage_door",
    }
    covered = {(scenario.category, scenario.language) for scenario in scenarios}
    assert covered == {(category, language) for category in CATEGORIES for language in ("en", "es")}
    assert {scenario.business for scenario in scenarios} == set(CORPUS.businesses)
    assert len(SUITE) >= 15
    assert len(Counter(scenario.category for scenario in SUITE)) >= 8


@pytest.fixture(scope="session")
def eval_businesses(django_db_setup, django_db_blocker):
    """The businesses the suite's scenarios text, committed once (a schema each)."""
    with django_db_blocker.unblock():
        businesses = businesses_ensure(CORPUS.businesses, {scenario.business for scenario in SUITE})
        connection.set_schema_to_public()
    return businesses


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", SUITE, ids=[scenario.id for scenario in SUITE])
def test_suite_scenario(scenario, eval_businesses, twilio_standin):
    runner = EvalRunner(corpus=CORPUS, businesses=eval_businesses, engine="rules", twilio_standin=twilio_standin)
    with runner.environment():
        result = runner.run(scenario)
    assert result.checks, result.error
    assert result.passed, render_result(result)
