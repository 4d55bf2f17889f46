"""In-app notifications, and the e-mail copy a worker sends after the change has committed."""

from django.db import transaction

from .models import Notification


def notify(*, users, title: str, body: str = "", link: str = "") -> int:
    """An in-app notification for each user; an e-mail for those with an address, queued after commit so that a
    slow or absent mail server never holds up (or fails) the request that caused it."""
    from .tasks import send_notification_mail

    users = [u for u in users if u is not None]
    created = Notification.objects.bulk_create([Notification(user=u, title=title, body=body, link=link) for u in users])
    ids = [n.pk for n, u in zip(created, users, strict=True) if u.email and n.pk is not None]
    if ids:
        transaction.on_commit(lambda: send_notification_mail.delay(ids))
    return len(users)


def notify_address(*, email: str, title: str, body: str = "", link: str = "") -> None:
    """An e-mail to an address that has no account yet (an invitation), queued after commit like the rest."""
    from django.conf import settings

    from .tasks import send_mail_task

    if not email:
        return
    text = f"{body}\n\n{settings.SITE_URL}{link}" if link else body
    transaction.on_commit(lambda: send_mail_task.delay(title, text, [email]))
