"""Writes of the operations app: running health checks and storing their results."""

import logging

from apps.ops import history
from nevermisscall import health

logger = logging.getLogger(__name__)


def health_check_run(*, names=None) -> tuple[str, dict[str, health.CheckResult]]:
    """Run the checks named (all by default) and store their results in the history."""
    overall, results = health.run_checks(names)
    try:
        history.record(results)
    except Exception:  # Redis down: the answer still stands, its record is lost.
        logger.warning("could not store health-check results (Redis unreachable)")
    return overall, results
