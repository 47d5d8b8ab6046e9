"""Pass rates per category, the measured invariants, reply times, and failures with their transcript."""

from __future__ import annotations

import math
from collections import OrderedDict

from apps.dispatch.evals.corpus import CATEGORIES
from apps.dispatch.evals.runner import ScenarioResult


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _failed(result: ScenarioResult, name: str) -> bool:
    return any(check.name == name and not check.ok for check in result.checks)


def summarize(results: list[ScenarioResult]) -> dict:
    categories = OrderedDict((name, {"total": 0, "passed": 0}) for name in CATEGORIES)
    for result in results:
        row = categories[result.scenario.category]
        row["total"] += 1
        row["passed"] += result.passed
    files: dict[str, dict] = OrderedDict()
    for result in sorted(results, key=lambda result: result.scenario.source):
        row = files.setdefault(result.scenario.source, {"total": 0, "passed": 0})
        row["total"] += 1
        row["passed"] += result.passed
    seconds = [turn.seconds for result in results for turn in result.turns]
    emergencies = [r for r in results if r.scenario.expect.get("flags", {}).get("emergency")]
    unflagged = [
        r
        for r in emergencies
        if r.owner_alerts == 0
        and not any(a["is_emergency"] for a in r.final.created)
        and (r.final.conversation or {}).get("lead_urgency") != "emergency"
    ]
    wanted_alert = [r for r in results if _min_alerts(r) >= 1]
    missed_alerts = [r for r in wanted_alert if r.owner_alerts == 0]
    broken_promises = [r for r in results if _failed(r, "invariant.promise_kept")]
    return {
        "engine": results[0].engine if results else "",
        "scenarios": len(results),
        "passed": sum(r.passed for r in results),
        "categories": {name: row for name, row in categories.items() if row["total"]},
        "files": files,  # the held-out files (holdout*.yaml) are read apart from the development set
        "reply_seconds": {
            "turns": len(seconds),
            "p50": percentile(seconds, 0.5),
            "p99": percentile(seconds, 0.99),
            "max": max(seconds, default=0.0),
            "over_2s": sum(1 for value in seconds if value > 2.0),
        },
        "bookings_outside_hours": sum(_failed(r, "invariant.within_hours") for r in results),
        "bookings_outside_area": sum(_failed(r, "invariant.service_area") for r in results),
        "emergencies": len(emergencies),
        "unflagged_emergencies": len(unflagged),
        "owner_alerts_wanted": len(wanted_alert),
        "missed_owner_alerts": len(missed_alerts),
        "promises_without_alert": len(broken_promises),
        "crashed": sum(1 for r in results if r.error),
        "failures": [r.scenario.id for r in results if not r.passed],
    }


def _min_alerts(result: ScenarioResult) -> int:
    value = result.scenario.expect.get("owner_alerts", 0)
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def _pct(passed: int, total: int) -> str:
    return f"{100 * passed / total:5.1f} %" if total else "    –"


def render_summary(summary: dict) -> str:
    lines = [f"Assistant evaluation — engine: {summary['engine']}", ""]
    lines.append(f"{'category':<16} {'passed':>8} {'rate':>8}")
    for name, row in summary["categories"].items():
        lines.append(f"{name:<16} {row['passed']:>3}/{row['total']:<4} {_pct(row['passed'], row['total']):>8}")
    lines.append(
        f"{'all':<16} {summary['passed']:>3}/{summary['scenarios']:<4} "
        f"{_pct(summary['passed'], summary['scenarios']):>8}"
    )
    held_out = {name: row for name, row in summary.get("files", {}).items() if name.startswith("holdout")}
    if held_out:
        development = [row for name, row in summary["files"].items() if name not in held_out]
        passed, total = sum(row["passed"] for row in development), sum(row["total"] for row in development)
        lines += ["", f"{'file':<16} {'passed':>8} {'rate':>8}"]
        lines.append(f"{'development':<16} {passed:>3}/{total:<4} {_pct(passed, total):>8}")
        for name, row in held_out.items():
            label = name.removesuffix(".yaml")
            lines.append(f"{label:<16} {row['passed']:>3}/{row['total']:<4} {_pct(row['passed'], row['total']):>8}")
    times = summary["reply_seconds"]
    lines += [
        "",
        f"server time per customer text ({times['turns']} texts): p50 {times['p50'] * 1000:.0f} ms, "
        f"p99 {times['p99'] * 1000:.0f} ms, max {times['max'] * 1000:.0f} ms, over 2 s: {times['over_2s']}",
        f"bookings outside hours: {summary['bookings_outside_hours']}   "
        f"outside the service area: {summary['bookings_outside_area']}",
        f"unflagged emergencies: {summary['unflagged_emergencies']} of {summary['emergencies']}   "
        f"missed owner alerts: {summary['missed_owner_alerts']} of {summary['owner_alerts_wanted']} expected",
        f"replies promising a follow-up while the owner was never texted: {summary['promises_without_alert']} "
        "scenarios",
    ]
    if summary["crashed"]:
        lines.append(f"crashed scenarios: {summary['crashed']}")
    return "\n".join(lines)


def render_transcript(result: ScenarioResult) -> list[str]:
    scenario = result.scenario
    lines = []
    for text in result.auto_replies:
        lines.append(f"    [missed-call text] {text}")
    for turn in result.turns:
        lines.append(f"    {turn.at:%a %m-%d %H:%M} customer: {turn.text}")
        if not turn.replies:
            lines.append(f"        ({turn.seconds * 1000:.0f} ms, no reply)")
        for reply, offer in zip(turn.replies, turn.offers, strict=False):
            lines.append(f"        → {'[slot] ' if offer else ''}{reply}   ({turn.seconds * 1000:.0f} ms)")
        for text in turn.owner_texts:
            lines.append(f"        ⇒ owner: {text}")
    final = result.final
    for appointment in final.created:
        start = appointment["start"].astimezone(scenario.start.tzinfo)
        minutes = round((appointment["end"] - appointment["start"]).total_seconds() / 60)
        lines.append(
            f"    booked: {appointment['job_type'] or '?'} {start:%a %Y-%m-%d %H:%M %Z}, {minutes} min, "
            f"${appointment['estimated_value']}, emergency={appointment['is_emergency']}, {appointment['status']}"
            + (f", notes={appointment['notes'][:80]!r}" if appointment["notes"] else "")
        )
    for appointment in final.existing:
        start = appointment["start"].astimezone(scenario.start.tzinfo)
        lines.append(f"    existing appointment: {appointment['status']} {start:%a %Y-%m-%d %H:%M %Z}")
    if final.opted_out:
        lines.append("    customer opted out")
    return lines


def render_result(result: ScenarioResult, *, transcript: bool = True) -> str:
    scenario = result.scenario
    mark = "PASS" if result.passed else "FAIL"
    lines = [
        f"{mark} {scenario.id} [{scenario.category}, {scenario.language}, {scenario.business}] "
        f"from {scenario.start:%a %Y-%m-%d %H:%M %Z} ({scenario.source})"
    ]
    if result.error:
        lines.append(f"    crashed: {result.error}")
    for check in result.failed_checks:
        lines.append(f"    ✗ {check.name}: {check.detail}")
    if transcript:
        lines += render_transcript(result)
    return "\n".join(lines)
