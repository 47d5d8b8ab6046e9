from django.db import migrations

# A pending call outcome marks its business for telephony.call_status_sweep (apps/tenants/fanout.py):
# when recorded, and when made pending again or dated earlier (an operator's fix, a test's clock).
TRIGGERS = """
CREATE TRIGGER call_status_event_work_mark AFTER INSERT ON telephony_callstatusevent FOR EACH ROW
    WHEN (NEW.processed_at IS NULL) EXECUTE FUNCTION public.nmc_work_mark('call_status', 'created_at');
CREATE TRIGGER call_status_event_work_remark AFTER UPDATE OF processed_at, created_at ON telephony_callstatusevent
    FOR EACH ROW WHEN (NEW.processed_at IS NULL AND (OLD.processed_at IS NOT NULL OR NEW.created_at < OLD.created_at))
    EXECUTE FUNCTION public.nmc_work_mark('call_status', 'created_at');
"""
DROP = """
DROP TRIGGER IF EXISTS call_status_event_work_mark ON telephony_callstatusevent;
DROP TRIGGER IF EXISTS call_status_event_work_remark ON telephony_callstatusevent;
"""


class Migration(migrations.Migration):
    dependencies = [("telephony", "0003_callstatusevent"), ("tenants", "0003_workmark")]

    operations = [migrations.RunSQL(TRIGGERS, DROP)]
