"""A bulkhead per business on the Twilio webhook threads: one business cannot occupy all of them.

With one business's rows locked, its webhooks held every webhook thread (10) and another business's
incoming call timed out at Twilio's 15 s (the fault run in issue 11). Here each business may use at
most ``TWILIO_WEBHOOK_THREADS_PER_BUSINESS`` of a process's webhook threads at once; a request over
that is answered 503 at once rather than queued (a thread waiting for a slot would be a thread lost to
the others too), so the threads keep serving the others. The
database limits in settings (``DATABASE_LOCK_TIMEOUT_MS``) bound how long the admitted ones wait.
"""

import logging
import threading

from django.conf import settings
from django.http import HttpResponse

from nevermisscall.webhook_handler import VOICE_PATH_PREFIXES

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_slots: dict = {}  # business id -> BoundedSemaphore, per process


def _business_slots(business_id) -> threading.BoundedSemaphore:
    with _lock:
        slots = _slots.get(business_id)
        if slots is None:
            slots = _slots[business_id] = threading.BoundedSemaphore(settings.TWILIO_WEBHOOK_THREADS_PER_BUSINESS)
        return slots


class BusinessBulkheadMiddleware:
    """After tenant resolution, in ``TWILIO_WEBHOOK_MIDDLEWARE``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or request.path.startswith(VOICE_PATH_PREFIXES):  # Voice turns have their own pool.
            return self.get_response(request)
        slots = _business_slots(tenant.pk)
        if not slots.acquire(blocking=False):
            logger.warning("webhook %s refused: business %s already uses its webhook threads", request.path, tenant.pk)
            return HttpResponse("busy", status=503, headers={"Retry-After": "1"}, content_type="text/plain")
        try:
            return self.get_response(request)
        finally:
            slots.release()
