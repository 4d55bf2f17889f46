"""Webhook subscriptions of organisations and the log of every delivery."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

EVENT_CHOICES = [
    ("certificate.issued", _("证书签发")),
    ("certificate.revoked", _("证书撤销")),
    ("certificate.suspended", _("证书暂停")),
    ("certificate.reinstated", _("证书恢复")),
    ("certificate.replaced", _("证书换发")),
]
EVENT_NAMES = [name for name, _label in EVENT_CHOICES]


class Subscription(models.Model):
    """One endpoint of an organisation's system and the events it wants. The secret signs every delivery (HMAC-SHA256);
    it is kept because signing needs it, and shown to the organisation only when created or rotated."""

    organisation = models.ForeignKey("accreditation.Organisation", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("接收地址"), max_length=500)
    description = models.CharField(_("说明"), max_length=128, blank=True)
    events = models.JSONField(_("订阅事件"), default=list)
    secret = models.CharField(max_length=128, editable=False)
    previous_secret = models.CharField(max_length=128, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(_("启用"), default=True)
    disabled_reason = models.CharField(_("停用原因"), max_length=255, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("事件推送订阅")
        verbose_name_plural = _("事件推送订阅")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organisation_id} → {self.url}"

    @property
    def event_labels(self) -> list[tuple[str, str]]:
        """(event name, its label) for each subscribed event: the label for people, the name for their systems."""
        labels = dict(EVENT_CHOICES)
        return [(name, str(labels.get(name, name))) for name in self.events]


class Delivery(models.Model):
    """One event for one subscription: every attempt's outcome, until delivered or given up."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("已放弃")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("事件"), max_length=32, choices=EVENT_CHOICES)
    event_id = models.UUIDField(_("事件标识"), default=uuid.uuid4, editable=False, db_index=True)
    payload = models.JSONField()
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveIntegerField(_("最近应答状态码"), null=True, blank=True)
    last_error = models.CharField(_("最近问题"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("应答摘要"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} {self.status}"
