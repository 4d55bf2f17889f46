from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail

from .models import Notification


@shared_task(name="core.send_notification_mail", autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_notification_mail(notification_ids: list[int]) -> int:
    """One e-mail per notification whose user has an address; retried while the mail server is unreachable."""
    mails = [
        (
            n.title,
            f"{n.body}\n\n{settings.SITE_URL}{n.link}" if n.link else n.body,
            settings.DEFAULT_FROM_EMAIL,
            [n.user.email],
        )
        for n in Notification.objects.filter(pk__in=notification_ids).select_related("user")
        if n.user.email
    ]
    return send_mass_mail(mails, fail_silently=False) if mails else 0


@shared_task(name="core.send_mail", autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_mail_task(subject: str, body: str, to: list[str]) -> int:
    """One plain e-mail (a password-reset link), sent by a worker so that the mail server never holds up a page."""
    from django.core.mail import send_mail

    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)


# A million-row xlsx takes longer than the default task time limit (30 min) on a small machine.
@shared_task(name="core.export_run", acks_late=True, time_limit=6 * 3600, soft_time_limit=6 * 3600 - 60)
def export_run_task(export_id: int) -> str:
    """Build one export's file (a worker killed midway gets the task again and starts the file over)."""
    from .exports import export_run

    export = export_run(export_id=export_id)
    return export.status if export else "missing"


@shared_task(name="core.exports_purge")
def exports_purge_task() -> int:
    from .exports import exports_purge

    return exports_purge()
