"""Indexes the Owner API's windows need (bench/owner.py showed sequential scans without them):
what was booked, who became a customer, which conversations and texts came in since a date.

The tables are crm's and conversations' (their models do not declare these indexes): they are
created here, in every business's schema, so the Owner API's reads stay this app's concern. Plain
``CREATE INDEX`` (``IF NOT EXISTS``): a migration runs in a transaction, and a new business's
tables are empty.
"""

from django.db import migrations

INDEXES = [
    ("owner_appointment_created", "crm_appointment", "created_at"),
    ("owner_customer_created", "crm_customer", "created_at"),
    ("owner_conversation_created", "conversations_conversation", "created_at"),
    ("owner_message_created", "conversations_message", "created_at"),
    # Recent conversations: ORDER BY last_message_at DESC, created_at DESC LIMIT n.
    ("owner_conversation_recent", "conversations_conversation", "last_message_at DESC, created_at DESC"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("conversations", "0009_cockpit_inbox"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in INDEXES
    ]
