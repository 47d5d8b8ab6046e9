"""The SMS outbox sweep (``conversations.sms_outbox_sweep``) became ``outbox.sweep``; beat's database
scheduler adds the new entry from settings but never removes the old one, which would fail every
30 s as an unregistered task."""

from django.db import migrations


def remove_old_schedule(apps, schema_editor):
    if schema_editor.connection.schema_name != "public":
        return
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task="conversations.sms_outbox_sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(remove_old_schedule, migrations.RunPython.noop)]
