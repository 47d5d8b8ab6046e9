"""Businesses that existed before ``ai_settings.disclose_automation`` get its default stored, so the
config API reads back what the assistant does."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("business_config", "0004_referral_note"),
    ]

    operations = [
        migrations.RunSQL(
            sql="""
                UPDATE business_config_businessconfig
                SET ai_settings = ai_settings || '{"disclose_automation": "where_required"}'::jsonb
                WHERE jsonb_typeof(ai_settings) = 'object' AND NOT jsonb_exists(ai_settings, 'disclose_automation')
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
