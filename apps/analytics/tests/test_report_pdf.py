"""``POST /api/reports {format: pdf}``: a real PDF whose table holds the CSV's figures and whose
charts are drawn from the same days (calls, missed, recovered, booked, value); Beta's has none of
Alpha's. The page streams are left uncompressed (``ANALYTICS_REPORT_PDF_COMPRESS``) to read the
text back without a PDF library: every string reportlab draws is a ``(…) Tj`` operator."""

import csv
import io
import re

import pytest
import time_machine
from reportlab.lib.units import mm

from apps.analytics.tests.test_call_conversation_analytics import rows  # noqa: F401
from apps.analytics.tests.test_figures_api import NOW, prices, usage_data  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("usage_data", "rows")]

TEXT = re.compile(rb"\(((?:\\.|[^\\)])*)\) Tj")


@pytest.fixture(autouse=True)
def readable_pdf(settings):
    settings.ANALYTICS_REPORT_PDF_COMPRESS = False


def _strings(pdf: bytes) -> list[str]:
    return [re.sub(rb"\\(.)", rb"\1", match).decode("latin-1") for match in TEXT.findall(pdf)]


def _report(client, **body):
    response = client.post("/api/reports", body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response


def _contains_run(strings: list[str], run: list[str]) -> bool:
    return any(strings[i : i + len(run)] == run for i in range(len(strings) - len(run) + 1))


@pytest.mark.parametrize("group_by", ["day", "hour"])
def test_pdf_report_holds_the_csv_table_and_charts(alice, charlie, client_for, group_by):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        pdf = _report(client, format="pdf", period="7d", group_by=group_by)
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
        assert pdf["Content-Disposition"] == f'attachment; filename="report-7d-{group_by}.pdf"'
        table = list(csv.reader(io.StringIO(_report(client, period="7d", group_by=group_by).content.decode())))
        strings = _strings(pdf.content)
        for row in table:  # the header and every row, cell by cell, in order
            assert _contains_run(strings, row), row
        assert "Calls, missed calls, recovered and booked per day" in strings
        assert "Estimated value booked per day" in strings
        assert {"Calls", "Missed", "Recovered", "Booked", "Value"} <= set(strings)  # the legends
        # Today's label on each chart's axis (the empty days are labelled too).
        assert strings.count(NOW.strftime("%m-%d")) >= 2

        other = _strings(_report(client_for(charlie), format="pdf", period="30d").content)
        assert _contains_run(other, table[0][:1] + table[0][1:]) or _contains_run(other, ["day", *table[0][1:]])
        assert not any(_contains_run(other, row) for row in table[1:])


def test_pdf_charts_are_drawn_from_the_days(alice, client_for):
    """The bars are the days' figures. Only today has any: 12 calls, 4 missed, 2 recovered (the two
    callers who texted back), 2 booked, then 400 of value on the second chart. Bars stand on the
    charts' axis (y = 10 mm); their heights are proportional to the figures."""
    with time_machine.travel(NOW, tick=False):
        pdf = _report(client_for(alice), format="pdf", period="7d").content
    axis = f"{10 * mm:.5f}".rstrip("0").encode()
    bars = [float(h) for h in re.findall(rb"[\d.]+ " + re.escape(axis) + rb" [\d.]+ ([\d.]+) re", pdf)]
    assert len(bars) == 5, bars
    counts, value = bars[:4], bars[4]
    unit = counts[0] / 12
    assert [round(height / unit, 3) for height in counts] == [12, 4, 2, 2]
    assert value == pytest.approx(counts[0])  # each chart's tallest bar fills its height
    strings = _strings(pdf)
    assert strings[strings.index("06-10") + 1 : strings.index("06-10") + 8] == ["0", "2", "4", "6", "8", "10", "12"]
    assert strings[strings.index("Value") - 5 : strings.index("Value") + 1] == [
        "0",
        "100",
        "200",
        "300",
        "400",
        "Value",
    ]
