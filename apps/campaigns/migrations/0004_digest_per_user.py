"""The daily digest becomes each owner's and manager's own choice (accounts.User.digest_channel,
digest_hour). Run in each business's schema: the business's one setting is copied onto its owner
users, then removed. The business's digest texted its forwarding number: an owner without a phone
of their own gets that number, so the texts keep going where they went. (The e-mail now goes to
the owner's own address instead of the business's.)"""

from django.db import migrations


def copy_onto_owners(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    settings = quote(apps.get_model("campaigns", "CampaignSettings")._meta.db_table)
    config = quote(apps.get_model("business_config", "BusinessConfig")._meta.db_table)
    users = f"{quote('public')}.{quote(apps.get_model('accounts', 'User')._meta.db_table)}"
    businesses = f"{quote('public')}.{quote(apps.get_model('tenants', 'Business')._meta.db_table)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {users} u
            SET digest_channel = s.digest_channel, digest_hour = s.digest_hour,
                phone = CASE WHEN s.digest_channel = 'sms' AND u.phone = ''
                             THEN COALESCE((SELECT c.forwarding_number FROM {config} c WHERE c.id = 1), '')
                             ELSE u.phone END
            FROM {settings} s, {businesses} b
            WHERE s.id = 1 AND b.schema_name = current_schema() AND u.business_id = b.id AND u.role = 'owner'
            """  # noqa: S608 - table names from the models
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_digest"),
        ("accounts", "0003_user_digest"),
        ("business_config", "0001_initial"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_onto_owners, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="campaignsettings", name="campaign_settings_digest_hour"),
        migrations.RemoveField(model_name="campaignsettings", name="digest_channel"),
        migrations.RemoveField(model_name="campaignsettings", name="digest_hour"),
    ]
