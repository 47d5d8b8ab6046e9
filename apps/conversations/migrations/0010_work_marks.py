from django.db import migrations

# Pending work marks its business for the beat sweeps (apps/tenants/fanout.py): an inbound text the
# engine has not decided on (conversations.inbound_sweep), an active conversation without a lead
# outcome (conversations.lead_idle_sweep) — when the row becomes pending, or its time moves earlier
# (or is first set: a conversation without a message yet is not idle).
TRIGGERS = """
CREATE TRIGGER message_work_mark AFTER INSERT ON conversations_message FOR EACH ROW
    WHEN (NEW.direction = 'inbound' AND NEW.handled_at IS NULL)
    EXECUTE FUNCTION public.nmc_work_mark('inbound', 'created_at');
CREATE TRIGGER message_work_remark AFTER UPDATE OF direction, handled_at, created_at ON conversations_message
    FOR EACH ROW WHEN (NEW.direction = 'inbound' AND NEW.handled_at IS NULL AND (
        OLD.handled_at IS NOT NULL OR OLD.direction <> NEW.direction OR NEW.created_at < OLD.created_at))
    EXECUTE FUNCTION public.nmc_work_mark('inbound', 'created_at');
CREATE TRIGGER conversation_work_mark AFTER INSERT ON conversations_conversation FOR EACH ROW
    WHEN (NEW.status = 'active' AND NEW.lead_outcome = '')
    EXECUTE FUNCTION public.nmc_work_mark('lead_idle', 'last_message_at');
CREATE TRIGGER conversation_work_remark AFTER UPDATE OF status, lead_outcome, last_message_at
    ON conversations_conversation FOR EACH ROW WHEN (NEW.status = 'active' AND NEW.lead_outcome = '' AND (
        OLD.status <> NEW.status OR OLD.lead_outcome <> NEW.lead_outcome
        OR NEW.last_message_at < COALESCE(OLD.last_message_at, 'infinity')))
    EXECUTE FUNCTION public.nmc_work_mark('lead_idle', 'last_message_at');
"""
DROP = """
DROP TRIGGER IF EXISTS message_work_mark ON conversations_message;
DROP TRIGGER IF EXISTS message_work_remark ON conversations_message;
DROP TRIGGER IF EXISTS conversation_work_mark ON conversations_conversation;
DROP TRIGGER IF EXISTS conversation_work_remark ON conversations_conversation;
"""


class Migration(migrations.Migration):
    dependencies = [("conversations", "0009_cockpit_inbox"), ("tenants", "0003_workmark")]

    operations = [migrations.RunSQL(TRIGGERS, DROP)]
