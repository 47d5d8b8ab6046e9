"""The dependency rules of ARCHITECTURE.md section 3, read from the source with ``ast``.

``nevermisscall/`` imports no app (what it needs from one is named in settings); telephony →
conversations → dispatch → crm point one way; nobody imports analytics, alerts or owner. Tests are exempt,
and so is the assistant's evaluation harness (``apps/dispatch/evals``): like a test, it plays
customers through the whole product from the telephony webhooks down.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = sorted(path.name for path in (ROOT / "apps").iterdir() if (path / "apps.py").exists())


def _imports(path: Path):
    """(module, line) for each import in ``path``, relative ones made absolute."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module, node.lineno
            for alias in node.names:  # ``from apps import telephony`` imports apps.telephony.
                yield f"{module}.{alias.name}", node.lineno


def _violations(folder: str, forbidden: tuple[str, ...], exempt: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "tests" in relative.parts or "evals" in relative.parts or str(relative) in exempt:
            continue
        for module, line in _imports(path):
            if any(module == name or module.startswith(f"{name}.") for name in forbidden):
                found.append(f"{relative}:{line} imports {module}")
    return sorted(set(found))


def test_the_project_package_imports_no_app():
    assert _violations("nevermisscall", ("apps",), exempt=("nevermisscall/settings.py",)) == []


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("apps/conversations", ("apps.telephony",)),
        ("apps/dispatch", ("apps.telephony", "apps.conversations")),
        ("apps/crm", ("apps.telephony", "apps.conversations", "apps.dispatch")),
        # The outbox is below every app that sends: they register what it needs (apps/outbox/hooks.py).
        ("apps/outbox", ("apps.telephony", "apps.conversations", "apps.dispatch", "apps.crm")),
    ],
)
def test_the_call_flow_apps_depend_one_way(folder, forbidden):
    assert _violations(folder, forbidden) == []


@pytest.mark.parametrize("app", [app for app in APPS if app not in {"analytics", "alerts", "owner"}])
def test_nobody_imports_analytics_alerts_or_owner(app):
    assert _violations(f"apps/{app}", ("apps.analytics", "apps.alerts", "apps.owner")) == []


@pytest.mark.parametrize("app", [app for app in APPS if app != "campaigns"])
def test_nobody_imports_campaigns(app):
    """Campaigns sit above the call flow: the inbound turn reaches them through settings.SMS_REPLY_HOOK."""
    assert _violations(f"apps/{app}", ("apps.campaigns",)) == []


def test_the_check_sees_imports_in_the_allowed_direction():
    """Guards the rules above against passing vacuously: telephony may, and does, use conversations."""
    assert _violations("apps/telephony", ("apps.conversations",))


def test_only_the_after_commit_module_schedules_work_after_a_commit():
    """One after-commit mechanism (nevermisscall/after_commit.py): nothing else calls
    ``transaction.on_commit``, ``apply_async`` or ``delay``."""
    offenders = []
    for path in [*(ROOT / "apps").rglob("*.py"), *(ROOT / "nevermisscall").rglob("*.py")]:
        if "tests" in path.parts or path.name == "after_commit.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"on_commit", "apply_async", "delay"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert offenders == []
