"""What the inbox needs from apps above it, registered from their ``AppConfig.ready`` so that the
dependencies keep pointing one way (telephony imports conversations, never the reverse).

- ``recent_calls(phone_number, limit)``: the customer's latest calls to the business (telephony),
  for the thread's customer panel: objects with ``started_at``, ``status`` and
  ``get_status_display``.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Hooks:
    recent_calls: Callable[[str, int], list] = lambda phone_number, limit: []


hooks = _Hooks()


def register_recent_calls(function: Callable[[str, int], list]) -> None:
    hooks.recent_calls = function
