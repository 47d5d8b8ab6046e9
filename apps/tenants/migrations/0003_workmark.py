from django.db import migrations, models

# One function for every tenant table's triggers (apps/tenants/fanout.py): TG_ARGV[0] is the kind of
# work, TG_ARGV[1] the column holding the time the row's work is counted from; the schema is the
# trigger's own table's.
WORK_MARK_FUNCTION = """
CREATE OR REPLACE FUNCTION public.nmc_work_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.tenants_workmark (schema_name, kind, at)
    VALUES (TG_TABLE_SCHEMA, TG_ARGV[0], COALESCE((to_jsonb(NEW) ->> TG_ARGV[1])::timestamptz, now()));
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_admin_scale")]

    operations = [
        migrations.CreateModel(
            name="WorkMark",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("schema_name", models.CharField(max_length=63)),
                ("kind", models.CharField(max_length=20)),
                ("at", models.DateTimeField()),
            ],
            options={"indexes": [models.Index(fields=["kind", "at"], name="tenants_wor_kind_74c048_idx")]},
        ),
        migrations.RunSQL(WORK_MARK_FUNCTION, "DROP FUNCTION IF EXISTS public.nmc_work_mark()"),
    ]
