"""What every tenant source shares; see ``TenantResolutionMiddleware`` for their contract.

The sources live next to the app that owns their credential (``apps/accounts/resolvers.py``,
``apps/tenants/resolvers.py``, ``apps/telephony/registry/resolvers.py``) and are listed by dotted
path in ``settings.TENANT_RESOLVERS``: adding one is one function there and one line in settings.
"""

UNRESOLVED = object()

# Paths whose callers are Twilio (checked by signature in the view); also routed by webhook_handler.
TWILIO_WEBHOOK_PREFIXES = ("/webhooks/twilio/", "/twilio/", "/api/callbot/")
