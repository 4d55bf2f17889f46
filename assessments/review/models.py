"""Bureau review of results before certificates are issued (成绩审核), where a region's policy asks for it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ResultReviewPolicy(models.Model):
    """Whether a region's bureau reviews an assessment's results before certificates are issued, and in how many
    working days. The most specific region prefix in force on the day wins; no row means no review."""

    region_prefix = models.CharField(
        _("适用地区代码前缀"), max_length=6, help_text=_("44 为广东省,4403 为深圳市;更具体的前缀优先")
    )
    effective_from = models.DateField(_("生效日期"))
    effective_until = models.DateField(_("失效日期"), null=True, blank=True)
    required = models.BooleanField(_("发证前须经人社部门审核成绩"), default=True)
    working_days = models.PositiveSmallIntegerField(_("审核时限(工作日)"), default=5)
    basis = models.CharField(_("依据"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("成绩审核政策")
        verbose_name_plural = _("成绩审核政策")
        ordering = ["region_prefix", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "effective_from"], name="uniq_result_review_policy"),
            models.CheckConstraint(
                name="result_review_policy_dates",
                condition=Q(effective_until__isnull=True) | Q(effective_until__gte=models.F("effective_from")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_prefix} {self.effective_from}"


class ResultReview(models.Model):
    """One submission of a plan's results to the bureau, and its decision. A returned review is followed by a new
    submission; certificates are issued only while the latest is approved and the results are still those approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("审核通过")
        RETURNED = "returned", _("退回")

    plan = models.ForeignKey("assessments.Plan", on_delete=models.CASCADE, related_name="result_reviews")
    policy = models.ForeignKey(ResultReviewPolicy, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    digest = models.CharField(_("报送成绩摘要"), max_length=64)
    summary = models.JSONField(_("报送成绩概况"), default=dict)
    note = models.TextField(_("报送说明"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()
    due_on = models.DateField(_("审核期限"))
    due_provisional = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("成绩审核")
        verbose_name_plural = _("成绩审核")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="pending"), name="one_pending_result_review_per_plan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.status}"
