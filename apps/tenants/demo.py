"""The demo data's names and logins, created and printed by ``manage.py seed_demo`` (``make run``)."""

DEMO_BUSINESS = "Acme Plumbing"
DEMO_OWNER = ("owner@acme.test", "acme-demo-2026")
PLATFORM_ADMIN = ("admin@nevermisscall.test", "platform-demo-2026")
DEMO_NUMBER = "+15005550006"  # Acme's business number in the demo (Twilio's test-number range).
DEMO_FORWARDING = "+15005550007"
