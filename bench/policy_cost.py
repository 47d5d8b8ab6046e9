"""CPU of the rule engine's reading of one customer text, this checkout against a git ref, same run:
``python -m bench.policy_cost [--ref main] [--rounds 30]``.

The turn's SQL is pinned by apps/conversations/tests/test_inbound_turn.py; what a change to the
policy layer can add to a turn is the CPU of the rules it calls. This times the calls
``dispatch.engine`` makes per customer text (language, urgency, the situational emergencies, the
confirmation, a request for a person, spam, a change of an appointment, the time preference, the
denials the catalogue reads without), over the customer texts of the eval corpus, with
``apps/dispatch/rules.py`` of this checkout and of ``--ref`` (loaded from git as its own module),
interleaved text by text so both see the same machine load. Prints the median per-text cost of
each and the ratio; the whole-stack figure is ``bench.turn``.
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=ZoneInfo("America/Chicago"))


def _texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "apps/dispatch/evals/data/scenarios").glob("*.yaml")):
        for scenario in yaml.safe_load(path.read_text()) or []:
            texts += [str(turn["text"]) for turn in scenario.get("turns", [])]
    return texts


def _load(ref: str):
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:apps/dispatch/rules.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "rules_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("rules_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["rules_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _read(rules, text: str) -> None:
    """What the engine asks of the rules about one text (both versions have these)."""
    rules.detect_language(text)
    rules.detect_urgency(rules.without_denials(text))
    rules.situational_emergency([text], local_hour=NOW.hour)
    rules.detect_confirmation(text)
    rules.asks_for_human(text)
    rules.looks_like_spam(text)
    rules.detect_change(text)
    rules.parse_time_preference(text, now=NOW)
    rules.reschedule_target(text, now=NOW)


def _change_of_booked(rules, text: str) -> None:
    """New on branch assistant: what the engine adds when the customer has an appointment."""
    rules.change_of_booked(text, appointment_day=date(2026, 12, 10), today=NOW.date())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from apps.dispatch import rules as current

    baseline = _load(args.ref)
    texts = _texts()
    for module in (baseline, current):  # warm caches and lazy data (dateparser, lingua)
        for text in texts:
            _read(module, text)
    costs = {"baseline": [], "current": []}
    clock = time.perf_counter
    for round_number in range(args.rounds):
        spent = {"baseline": 0.0, "current": 0.0}
        for text in texts:  # text by text, alternating which goes first: both see the same moment's load
            order = (("baseline", baseline), ("current", current))
            for name, module in order if round_number % 2 == 0 else order[::-1]:
                started = clock()
                _read(module, text)
                spent[name] += clock() - started
        for name, seconds in spent.items():
            costs[name].append(seconds / len(texts) * 1e6)
    base, now = statistics.median(costs["baseline"]), statistics.median(costs["current"])
    print(f"{len(texts)} customer texts of the eval corpus, {args.rounds} rounds, interleaved")
    print(f"rules of {args.ref:>10s}: median {base:8.1f} µs per text (min {min(costs['baseline']):.1f})")
    print(f"rules of  this tree: median {now:8.1f} µs per text (min {min(costs['current']):.1f})")
    print(f"ratio this / {args.ref}: {now / base:.3f}")
    if hasattr(current, "change_of_booked"):
        started = time.perf_counter()
        for _ in range(args.rounds):
            for text in texts:
                _change_of_booked(current, text)
        extra = (time.perf_counter() - started) / (args.rounds * len(texts)) * 1e6
        print(f"change_of_booked (only with an appointment on the books): {extra:.1f} µs per text")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
    main()
