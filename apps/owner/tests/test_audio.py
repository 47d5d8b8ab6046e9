"""Spoken briefings: espeak-ng offline, OpenAI text-to-speech (the real SDK against a loopback
server speaking ``/v1/audio/speech``) with a key; private, per-business audio files; and the owner's
phone line, ``/twilio/owner-voice``, playing them (``<Say>`` when no speech can be made)."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.accounts.tokens import token_pair_for
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, new_call_sid, payload
from nevermisscall.openai_standin import MP3_HEADER, OpenAIStandIn

pytestmark = pytest.mark.django_db
OWNER = "+13125550199"  # Alpha's forwarding number (apps/telephony/tests/conftest.py)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.OPENAI_API_KEY = ""
    return tmp_path


@pytest.fixture(scope="module")
def speech_standin():
    standin = OpenAIStandIn().start()
    yield standin
    standin.stop()


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_espeak_audio_is_a_private_file_of_the_business(media_root, dataset, figures, figures_client, charlie):
    response = figures_client.get("/v1/owner/summary/today/audio")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav" and response["X-Speech-Provider"] == "espeak-ng"
    audio = b"".join(response.streaming_content)
    assert audio.startswith(b"RIFF") and b"WAVE" in audio[:12] and len(audio) > 10_000
    (stored,) = _files(media_root)
    assert stored.relative_to(media_root).parts[:2] == ("owner-audio", str(figures.id))
    assert stored.read_bytes() == audio
    # The same words again: the same file, not a second synthesis.
    again = figures_client.get("/v1/owner/summary/today/audio")
    assert b"".join(again.streaming_content) == audio and _files(media_root) == [stored]
    # Tomorrow's schedule is other words: another file.
    tomorrow = figures_client.get("/v1/owner/schedule/tomorrow/audio")
    assert tomorrow.status_code == 200 and len(_files(media_root)) == 2
    # Members of the business may fetch the file by name; another business gets a 404.
    name = stored.relative_to(media_root).as_posix()
    assert figures_client.get(f"/media/{name}").status_code == 200
    stranger = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(charlie)['access_token']}")
    assert stranger.get(f"/media/{name}").status_code == 404


def test_openai_speech_through_the_sdk(media_root, settings, speech_standin, dataset, figures_client):
    settings.OPENAI_API_KEY = "sk-owner-test"
    settings.OPENAI_BASE_URL = speech_standin.base_url
    speech_standin.mode = "ok"
    speech_standin.requests.clear()
    text = figures_client.get("/v1/owner/summary/today").json()["text"]
    assert "Today you have 0 jobs." in text and "missed calls today" in text
    response = figures_client.get("/v1/owner/summary/today/audio")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg" and response["X-Speech-Provider"] == "openai"
    assert b"".join(response.streaming_content) == MP3_HEADER + text.encode()
    (request,) = speech_standin.requests
    assert request["path"] == "/v1/audio/speech" and request["headers"]["authorization"] == "Bearer sk-owner-test"
    assert request["body"] == {
        "model": settings.OWNER_TTS_OPENAI_MODEL,
        "voice": settings.OWNER_TTS_OPENAI_VOICE,
        "input": text,
        "response_format": "mp3",
    }
    # The provider failing is a 503 in seed 002's shape, and nothing is stored.
    speech_standin.mode = "error500"
    failed = figures_client.get("/v1/owner/schedule/tomorrow/audio")
    assert failed.status_code == 503 and failed.json()["detail"]
    assert [path.suffix for path in _files(media_root)] == [".mp3"]


def test_no_speech_engine_is_a_503(media_root, monkeypatch, figures_client):
    monkeypatch.setenv("PATH", "/nonexistent")
    response = figures_client.get("/v1/owner/summary/today/audio")
    assert response.status_code == 503 and "espeak-ng" in response.json()["detail"]
    assert _files(media_root) == []


def test_schedule_tomorrow_json_and_spanish_audio(media_root, figures, figures_client):
    from zoneinfo import ZoneInfo

    from apps.tenants.config.services import config_get

    connection.set_tenant(figures)
    tz = ZoneInfo(figures.timezone)
    tomorrow = (timezone.now().astimezone(tz) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    customer, _ = customer_get_or_create_by_phone(phone="+13125550290", name="Dana", address="", language="en")
    appointment = appointment_book(
        customer=customer,
        start=tomorrow,
        end=tomorrow + timedelta(hours=1),
        job_type="burst_pipe",
        trade="plumbing",
        is_emergency=True,
        estimated_value=None,
        address="1420 W Fullerton Ave",
        notes="",
        source="manual",
    )
    connection.set_schema_to_public()
    body = figures_client.get("/v1/owner/schedule/tomorrow").json()
    assert body["date"] == tomorrow.date().isoformat() and body["count"] == 1 and body["emergencies"] == 1
    assert body["appointments"][0]["id"] == str(appointment.id)
    assert body["appointments"][0]["customer"] == {"id": str(customer.id), "name": "Dana", "phone": "+13125550290"}
    assert body["text"] == "Tomorrow you have 1 job. 10:00 AM: emergency burst pipe, 1420 W Fullerton Ave."
    connection.set_tenant(figures)
    config = config_get()
    config.language = "es"
    config.save(update_fields=["language"])
    connection.set_schema_to_public()
    spanish = figures_client.get("/v1/owner/schedule/tomorrow").json()["text"]
    assert spanish.startswith("Mañana") and "emergencia" in spanish
    audio = figures_client.get("/v1/owner/schedule/tomorrow/audio")
    assert audio.status_code == 200 and b"".join(audio.streaming_content).startswith(b"RIFF")


def _post(webhook, data):
    tenant = connection.tenant
    response = webhook.post("/twilio/owner-voice", data)
    connection.set_tenant(tenant)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml"
    return ET.fromstring(response.content)


def _owner_job_tomorrow(alpha):
    connection.set_tenant(alpha)
    customer, _ = customer_get_or_create_by_phone(phone="+17735550142", name="Maria", address="", language="en")
    tomorrow = timezone.now() + timedelta(days=1)
    appointment_book(
        customer=customer,
        start=tomorrow,
        end=tomorrow + timedelta(hours=1),
        job_type="drain_cleaning",
        trade="plumbing",
        is_emergency=False,
        estimated_value=None,
        address="1420 W Fullerton Ave",
        notes="",
        source="manual",
    )


def test_owner_line_plays_the_synthesised_briefings(media_root, alpha, webhook, twilio):
    _owner_job_tomorrow(alpha)
    root = _post(webhook, payload("voice_incoming", CallSid=new_call_sid(), From=OWNER))
    plays = [element.text for element in root.iter("Play")]
    assert len(plays) == 2 and all(url.startswith(f"{PUBLIC_BASE_URL}/media/signed/") for url in plays)
    assert [element.text for element in root.iter("Say")] == ["Goodbye!"]
    assert root[-1].tag == "Hangup"
    # Twilio fetches the files with no session: the signed link serves the WAV.
    fetched = Client().get(urlsplit(plays[1]).path)
    assert fetched.status_code == 200 and fetched["Content-Type"] == "audio/wav"
    assert b"".join(fetched.streaming_content).startswith(b"RIFF")
    assert len(_files(media_root)) == 2


def test_owner_line_says_the_briefings_without_a_speech_engine(media_root, monkeypatch, alpha, webhook, twilio):
    _owner_job_tomorrow(alpha)
    monkeypatch.setenv("PATH", "/nonexistent")
    root = _post(webhook, payload("voice_incoming", CallSid=new_call_sid(), From=OWNER))
    said = [element.text for element in root.iter("Say")]
    assert not list(root.iter("Play"))
    assert said[0].startswith("Today you have 0 jobs.")
    assert said[1].startswith("Tomorrow you have 1 job.") and "drain cleaning, 1420 W Fullerton Ave" in said[1]
    stranger = _post(webhook, payload("voice_incoming", CallSid=new_call_sid()))
    assert "owner only" in [element.text for element in stranger.iter("Say")][0]


def test_unsigned_owner_line_is_refused(alpha, webhook, twilio):
    response = webhook.post("/twilio/owner-voice", payload("voice_incoming", From=OWNER), signature="bad")
    assert response.status_code == 403
