"""Prometheus metrics: requests, webhooks, SMS and deliveries, provider and AI calls, queue depth;
every label value from a fixed set; several processes summed in multiprocess mode."""

import re
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.telephony.tests.conftest import new_call_sid, payload
from apps.telephony.tests.test_missed_call_flow import dial_result, incoming
from conftest import process_env
from nevermisscall import metrics
from nevermisscall.tracing import TracingTransport

pytestmark = pytest.mark.django_db

ALPHA_NUMBER = "+13125550111"
CALLER = "+17735550191"
ROUTE = re.compile(r"^[\w/<>:.\-^$?(){},\[\]+*\\|]*$|^unmatched$")


def _families(client) -> dict:
    text = client.get("/metrics/prometheus").content.decode()
    return {f.name: f for f in text_string_to_metric_families(text) if f.name.startswith("nmc_")}


def _value(families, name, **labels) -> float:
    family = families.get(name)
    if family is None:
        return 0.0
    return sum(
        s.value
        for s in family.samples
        if s.name.endswith("_total") and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_a_missed_call_counts_webhooks_sms_deliveries_and_provider_requests(client, webhook, twilio, alpha, commit):
    before = _families(client)
    call_sid = new_call_sid()
    with commit():
        incoming(webhook, call_sid, caller=CALLER)
    with commit():
        dial_result(webhook, call_sid, "no-answer", caller=CALLER)
    assert twilio.messages(), "the missed call was texted"
    after = _families(client)
    assert _value(after, "nmc_webhooks", status_class="2xx") - _value(before, "nmc_webhooks", status_class="2xx") == 2
    assert _value(after, "nmc_sms", outcome="sent") - _value(before, "nmc_sms", outcome="sent") == 1
    sent = dict(channel="sms", outcome="sent")
    assert _value(after, "nmc_delivery_attempts", **sent) - _value(before, "nmc_delivery_attempts", **sent) == 1
    twilio_2xx = dict(provider="twilio", status_class="2xx")
    assert _value(after, "nmc_provider_requests", **twilio_2xx) > _value(before, "nmc_provider_requests", **twilio_2xx)
    assert "nmc_celery_queue_depth" in after and "nmc_http_requests" in after


def test_ai_calls_are_counted_through_the_openai_sdks_transport(client, openai_standin):
    from apps.dispatch.providers.openai_chat import get_client

    before = _families(client)
    get_client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    after = _families(client)
    assert _value(after, "nmc_ai_calls", status_class="2xx") - _value(before, "nmc_ai_calls", status_class="2xx") == 1
    assert isinstance(get_client()._client._transport, TracingTransport)


def test_label_values_come_from_fixed_sets(client, webhook, twilio, alpha, beta):
    """Never a business, a phone number, a call SID or a raw path in a label."""
    for business_number in (ALPHA_NUMBER, "+17735550122"):
        webhook.post("/webhooks/twilio/call", payload("voice_incoming", CallSid=new_call_sid(), To=business_number))
    client.get("/health/services/no-such-service-" + new_call_sid())
    client.get("/not/a/route/+13125550111")
    metrics.record_delivery_attempt(channel="carrier-pigeon", outcome="+13125550111", seconds=0.1)
    metrics.record_provider_request(url="https://evil.example/+13125550111", status=999, seconds=0.1)
    allowed = {
        "channel": metrics.CHANNELS | {"other"},
        "outcome": metrics.OUTCOMES | {"other"},
        "provider": metrics.PROVIDERS,
        "status_class": metrics.STATUS_CLASSES,
        "method": {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"},
        "breaker": {"openai", "twilio-sms", "twilio-numbers", "geocoding", "smtp", "outgoing-webhooks", "web-push"},
        "component": {
            "web",
            "database",
            "redis",
            "celery",
            "queues",
            "beat",
            "outbox",
            "mail",
            "twilio",
            "openai",
            "geocoding",
        },
        "queue": {"celery"},
        "status": None,  # HTTP status codes and delivery statuses: checked by shape below.
        "reason": {"quiet_hours", "quota", "circuit_open"},
        "le": None,
    }
    for family in _families(client).values():
        for sample in family.samples:
            for label, value in sample.labels.items():
                assert label in allowed or label == "route", (family.name, label)
                assert not re.search(r"\d{7,}", value), (family.name, label, value)
                assert alpha.schema_name not in value and beta.schema_name not in value
                assert "CA" + "0" * 5 not in value and not value.startswith("CA")
                if label == "route":
                    assert ROUTE.match(value) and "/not/a/route" not in value, value
                elif label == "status":
                    assert re.fullmatch(r"\d{3}|[a-z_]+", value), value
                elif allowed[label] is not None:
                    assert value in allowed[label], (family.name, label, value)


def test_several_processes_are_summed_in_multiprocess_mode(tmp_path):
    """Two processes count with PROMETHEUS_MULTIPROC_DIR; a third serves the sum."""
    env = process_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    count = textwrap.dedent(
        """
        from nevermisscall import metrics
        metrics.record_delivery_attempt(channel="sms", outcome="sent", seconds=0.2)
        metrics.WEBHOOKS.labels("webhooks/twilio/call", "2xx").inc()
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    serve = textwrap.dedent(
        """
        import django
        django.setup()
        from nevermisscall.health import prometheus_text
        print(prometheus_text().decode())
        """
    )
    done = subprocess.run([sys.executable, "-c", serve], env=env, timeout=120, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    out = done.stdout
    families = {f.name: f for f in text_string_to_metric_families(out.decode())}
    assert _value(families, "nmc_sms", outcome="sent") == 2
    assert _value(families, "nmc_webhooks", route="webhooks/twilio/call") == 2
    assert "nmc_outbox_deliveries" in families  # The scrape-time gauges are there too.
