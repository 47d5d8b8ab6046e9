"""PostgreSQL restarted and down, a business's rows locked, Redis hung and restarted, Twilio hanging.

The scenarios run in ``tests.faults.datastores`` (a private stack, whose PostgreSQL and Redis it
may stop), once for this module; each test judges one scenario's figures. The bounds are what
Twilio needs, several times above what this machine measures (docs/operations.md, "Faults").
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results() -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "APP_ENV"}}
    env["NMC_BENCH_DATA_DIR"] = str(BASE_DIR / ".data" / "faults")
    run = subprocess.run(
        [sys.executable, "-m", "tests.faults.datastores"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = {}
    for line in run.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
            found[result.pop("scenario")] = result
    assert found, (
        f"the fault driver reported nothing (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    )
    return found


def _scenario(results: dict, name: str) -> dict:
    result = results[name]
    assert "crashed" not in result, result
    return result


def _nothing_lost_or_doubled(result: dict) -> None:
    assert result["callers"] > 0
    assert (result["lost"], result["doubled"]) == (0, 0), result


def test_the_first_webhooks_after_a_postgres_restart_succeed_and_every_caller_is_texted_once(results):
    result = _scenario(results, "postgres_restart")
    assert result["before"]["errors"] == 0 and result["after"]["errors"] == 0, result
    assert result["refused_but_recorded"] == 0, result  # An answer is an error only if nothing was kept.
    _nothing_lost_or_doubled(result)
    assert result["texts_waited_seconds"] < 15, result  # Sent by the worker, not by a sweep ~40 s later.


def test_webhooks_during_a_postgres_outage_answer_within_seconds(results):
    result = _scenario(results, "postgres_outage")
    assert result["during_slowest_seconds"] < 5, result  # Not the pool's old 10 s, nor Twilio's 15 s.
    assert result["after"]["errors"] == 0, result
    _nothing_lost_or_doubled(result)  # Sent by the worker, or after its pool's reconnect backoff by a sweep.


def test_one_business_with_locked_rows_does_not_stall_another(results):
    result = _scenario(results, "business_locked")
    assert result["other_business"]["errors"] == 0, result
    assert result["other_business"]["slowest_seconds"] < 2, result
    assert result["locked_business_slowest_seconds"] < 12, result  # Its answers come inside Twilio's 15 s.
    _nothing_lost_or_doubled(result)


def test_a_hung_redis_is_found_out_once_and_nothing_is_lost(results):
    result = _scenario(results, "redis_hung")
    assert result["first_wave"]["errors"] == 0 and result["second_wave"]["errors"] == 0, result
    assert result["second_wave"]["slowest_seconds"] < 1.5, result  # No socket timeout per webhook.
    _nothing_lost_or_doubled(result)


def test_after_a_redis_restart_texts_and_live_events_go_on(results):
    result = _scenario(results, "redis_restart")
    assert result["same_url"], result  # The running processes find it where it was.
    assert result["call"]["errors"] == 0 and result["event_arrived"], result
    _nothing_lost_or_doubled(result)


def test_a_text_twilio_took_without_answering_is_not_sent_twice(results):
    result = _scenario(results, "twilio_hangs")
    assert result["calls"]["errors"] == 0 and result["settled"], result
    _nothing_lost_or_doubled(result)  # One request per caller reached Twilio: the repeat was a lookup.
