"""The reporting outbox: one row per record sent to the provincial/national database, with its feedback."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeadlineRule(models.Model):
    """报送时限 as data (loaded from data/deadlines.json, editable in the admin): how many working days after the
    assessment (results) or the issue or status change (certificates) a record is due, by region and kind of
    organisation, with the document that says so and the dates it is in force."""

    class Kind(models.TextChoices):
        RESULT = "result", _("认定结果")
        CERTIFICATE = "certificate", _("证书数据")

    kind = models.CharField(_("上报内容"), max_length=16, choices=Kind.choices)
    region_prefix = models.CharField(
        _("适用地区代码前缀"), max_length=6, blank=True, help_text=_("空为全国;22为吉林省,2201为长春市")
    )
    organisation_kind = models.CharField(
        _("机构类型"), max_length=1, blank=True, help_text=_("空为所有机构;Y用人单位,S社会培训评价组织")
    )
    working_days = models.PositiveSmallIntegerField(_("工作日数"))
    basis = models.CharField(_("文件依据"), max_length=255)
    effective_from = models.DateField(_("施行日期"))
    effective_until = models.DateField(_("失效日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("上报时限规则")
        verbose_name_plural = _("上报时限规则")
        ordering = ["kind", "region_prefix", "organisation_kind", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.region_prefix or '全国'} {self.organisation_kind or '*'}: {self.working_days}"


# What each record reports, in words (the event names of certificates.signals, and "result" for a result).
EVENT_LABELS = {
    "result": _("认定结果"),
    "issued": _("发证"),
    "revoked": _("撤销"),
    "suspended": _("暂停"),
    "reinstated": _("恢复"),
    "replaced": _("换发"),
}


class ReportRecord(models.Model):
    """One record for the national database. `record_id` is its idempotency key: the receiver answers a record
    it has seen before with the answer it gave then, so a retry after a timeout never creates a second entry."""

    class Kind(models.TextChoices):
        RESULT = "result", _("认定结果")
        CERTIFICATE = "certificate", _("证书数据")

    class Status(models.TextChoices):
        PENDING = "pending", _("待上报")
        SENDING = "sending", _("上报中")
        ACCEPTED = "accepted", _("已接收")
        REJECTED = "rejected", _("被退回")
        HELD = "held", _("暂缓上报")
        CORRECTED = "corrected", _("已更正重报")

    record_id = models.UUIDField(_("记录标识"), unique=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("上报内容"), max_length=16, choices=Kind.choices)
    event = models.CharField(_("事项"), max_length=16)
    certificate = models.ForeignKey(
        "certificates.Certificate", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    registration = models.ForeignKey(
        "assessments.Registration", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey("accreditation.Organisation", on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(_("地区"), max_length=6, db_index=True)
    subject = models.CharField(_("对象"), max_length=128, help_text=_("证书编号,或考生姓名与计划"))
    payload = models.JSONField(_("上报数据"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("最近一次发送问题"), max_length=500, blank=True)
    feedback_code = models.CharField(_("反馈代码"), max_length=64, blank=True)
    feedback_message = models.CharField(_("反馈说明"), max_length=500, blank=True)
    receipt = models.CharField(_("回执编号"), max_length=64, blank=True)
    first_sent_at = models.DateTimeField(_("首次发送"), null=True, blank=True)
    answered_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    due_on = models.DateField(_("上报期限"), db_index=True)
    due_provisional = models.BooleanField(_("期限为暂定"), default=False)
    due_explanation = models.CharField(_("期限计算说明"), max_length=255, blank=True)
    resent_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resent_as", verbose_name=_("更正自")
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("上报记录")
        verbose_name_plural = _("上报记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="national_due_idx")]
        constraints = [
            models.CheckConstraint(
                name="national_record_has_subject",
                condition=Q(certificate__isnull=False) | Q(registration__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} {self.get_status_display()}"

    @property
    def event_label(self) -> str:
        return str(EVENT_LABELS.get(self.event, self.event))

    OPEN = (Status.PENDING, Status.SENDING, Status.REJECTED, Status.HELD)
