from celery import shared_task

from apps.ops.services import health_check_run


@shared_task(name="ops.health_check", ignore_result=True)
def health_check():
    """Beat, every HEALTH_CHECK_SECONDS: every check, stored, so history exists when nobody looks."""
    overall, _ = health_check_run()
    return overall
