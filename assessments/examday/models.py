"""Exam day (考试当天): admission tickets (准考证) and check-in (签到), per component session of a plan."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AdmissionTicket(models.Model):
    """准考证: one per approved registration; its QR carries a signed token that the check-in page reads."""

    registration = models.OneToOneField(
        "assessments.Registration", on_delete=models.CASCADE, related_name="ticket", verbose_name=_("报名")
    )
    number = models.CharField(_("准考证号"), max_length=24, unique=True)
    seat = models.PositiveIntegerField(_("座位号"))
    # Part of the signed token: issuing the ticket again (a lost ticket) makes the old QR code useless.
    secret = models.CharField(max_length=32)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("准考证")
        verbose_name_plural = _("准考证")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class CheckIn(models.Model):
    """One candidate at one component session: present (after the ID document was checked) or absent."""

    class Status(models.TextChoices):
        PRESENT = "present", _("已签到")
        ABSENT = "absent", _("缺考")

    class Method(models.TextChoices):
        SCAN = "scan", _("扫码")
        TYPED = "typed", _("输入准考证号")
        ROSTER = "roster", _("名单中标记")

    registration = models.ForeignKey("assessments.Registration", on_delete=models.CASCADE, related_name="checkins")
    component = models.ForeignKey("assessments.PlanComponent", on_delete=models.CASCADE, related_name="checkins")
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices)
    id_checked = models.BooleanField(_("已核验身份证件与照片"), default=False)
    method = models.CharField(_("方式"), max_length=8, choices=Method.choices)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("记录人")
    )
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("考场签到")
        verbose_name_plural = _("考场签到")
        ordering = ["recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "component"], name="uniq_checkin"),
            models.CheckConstraint(
                name="checkin_present_needs_id_check",
                condition=~models.Q(status="present") | models.Q(id_checked=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.component_id} {self.status}"
