"""The PDF report (``POST /api/reports {format: pdf}``): charts per day of calls, missed calls,
missed calls recovered, bookings and booked value, then the CSV's table, drawn with reportlab
(platypus for the pages, reportlab.graphics for the charts). Deterministic bytes (``invariant``)."""

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

COUNT_SERIES = (
    ("calls", colors.HexColor("#2563eb")),
    ("missed", colors.HexColor("#dc2626")),
    ("recovered", colors.HexColor("#16a34a")),
    ("booked", colors.HexColor("#9333ea")),
)
CHART_WIDTH, CHART_HEIGHT = 250 * mm, 60 * mm


def _bar_chart(*, title: str, labels: list[str], series: list[tuple[str, list[float], object]]) -> Drawing:
    drawing = Drawing(CHART_WIDTH, CHART_HEIGHT + 12 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 15 * mm, 10 * mm
    chart.width, chart.height = CHART_WIDTH - 60 * mm, CHART_HEIGHT - 5 * mm
    chart.data = [values or [0] for _name, values, _colour in series]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 45 if len(labels) > 10 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 10 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.barSpacing = 0.5
    for index, (_name, _values, colour) in enumerate(series):
        chart.bars[index].fillColor = colour
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = CHART_WIDTH - 40 * mm, CHART_HEIGHT
    legend.fontSize = 8
    legend.colorNamePairs = [(colour, name) for name, _values, colour in series]
    drawing.add(legend)
    drawing.add(String(15 * mm, CHART_HEIGHT + 8 * mm, title, fontName="Helvetica-Bold", fontSize=10))
    return drawing


def report_pdf(*, title: str, subtitle: str, days: list[dict], table: list[list[str]]) -> bytes:
    """``days``: one dict per local day (``label``, calls, missed, recovered, booked, revenue);
    ``table``: the CSV's rows, the header first."""
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        title=title,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        invariant=1,
        pageCompression=1 if settings.ANALYTICS_REPORT_PDF_COMPRESS else 0,
    )
    styles = getSampleStyleSheet()
    labels = [day["label"] for day in days]
    names = {"calls": _("Calls"), "missed": _("Missed"), "recovered": _("Recovered"), "booked": _("Booked")}
    counts = _bar_chart(
        title=_("Calls, missed calls, recovered and booked per day"),
        labels=labels,
        series=[(names[key], [day[key] for day in days], colour) for key, colour in COUNT_SERIES],
    )
    revenue = _bar_chart(
        title=_("Estimated value booked per day"),
        labels=labels,
        series=[(_("Value"), [float(day["revenue"]) for day in days], colors.HexColor("#ca8a04"))],
    )
    grid = LongTable(table, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f4f6")]),
            ]
        )
    )
    story = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(escape(subtitle), styles["Normal"]),
        Spacer(1, 4 * mm),
        counts,
        revenue,
        Spacer(1, 4 * mm),
        grid,
    ]
    document.build(story)
    return out.getvalue()
