"""CSV exports are streamed through a server-side cursor: the response is a stream, read in chunks,
and the memory it takes does not follow the number of rows."""

import csv
import io
import tracemalloc

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient
from django.utils import timezone

from apps.accounts.tokens import token_pair_for
from apps.conversations.models import Conversation

pytestmark = pytest.mark.django_db
PATH = "/v1/owner/export/conversations.csv?days=30"


def _add_conversations(business, start: int, count: int):
    connection.set_tenant(business)
    now = timezone.now()
    Conversation.objects.bulk_create(
        (
            Conversation(
                customer_number=f"+1917{index:07d}",
                business_number="+13125550300",
                customer_name=f"Customer {index} with a name long enough to weigh something",
                status="resolved",
                lead_job_type="drain_cleaning",
                last_message_at=now,
            )
            for index in range(start, start + count)
        ),
        batch_size=2000,
    )
    connection.set_schema_to_public()


def _peak_while_reading(client) -> tuple[int, int, int]:
    """(peak bytes allocated while the body is read, rows, chunks)."""
    response = client.get(PATH)
    assert response.status_code == 200 and response.streaming
    tracemalloc.start()
    rows = chunks = 0
    try:
        for chunk in response.streaming_content:
            chunks += 1
            rows += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, rows, chunks


def test_conversations_export_streams_in_constant_memory(figures, figures_client):
    _add_conversations(figures, 0, 2_000)
    small_peak, small_rows, small_chunks = _peak_while_reading(figures_client)
    _add_conversations(figures, 2_000, 8_000)
    large_peak, large_rows, large_chunks = _peak_while_reading(figures_client)
    assert (small_rows, large_rows) == (2_001, 10_001)
    assert large_chunks > small_chunks > 1
    # Five times the rows, about the same memory (one cursor chunk of 500 rows at most).
    assert large_peak < small_peak * 1.5 + 256 * 1024, (small_peak, large_peak)


def test_export_content(dataset, figures_client):
    response = figures_client.get(PATH)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="conversations-30d.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["conversation_id"] for row in rows] == [
        str(dataset.conversations[key].id) for key in ("V2", "V1", "V3", "V7", "V4", "V6", "V5")
    ]
    assert rows[1]["appointment_id"] == str(dataset.appointments["A1"].id) and rows[1]["customer_name"] == "Ann"
    mix = figures_client.get("/v1/owner/export/service-mix.csv?days=30")
    assert mix.streaming
    lines = b"".join(mix.streaming_content).decode().splitlines()
    assert lines == [
        "service,appointments,completed,lost,emergencies,estimated_value,share_pct",
        "drain_cleaning,2,2,0,1,500.00,40.0",
        "water_heater,2,1,1,0,1500.00,40.0",
        "plumbing,1,0,0,0,0.00,20.0",
    ]


def test_under_asgi_the_export_is_an_async_stream(dataset, figures_owner):
    """Django reads a synchronous iterator whole under ASGI: the view gives it an async one."""

    token = token_pair_for(figures_owner)["access_token"]

    async def fetch():
        response = await AsyncClient().get(PATH, headers={"X-Owner-Token": token})
        assert response.status_code == 200, response.content
        return response, [chunk async for chunk in response.streaming_content]

    response, chunks = async_to_sync(fetch)()
    assert response.status_code == 200
    assert b"".join(chunks).count(b"\n") == 8 and b"Ann" in b"".join(chunks)
