"""Exam evidence (考务留痕) per component session: room photos, the supervisor's report (督导报告), references to video
recordings with their content hashes, attendance sheets; kept for a period held as data per region."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EvidenceRetentionPolicy(models.Model):
    """How long a region keeps exam evidence (e.g. electronic archives ≥5 years); the most specific prefix in force
    on the session's day wins; the row with an empty prefix is the national default."""

    region_prefix = models.CharField(_("适用地区代码前缀"), max_length=6, blank=True, help_text=_("空为全国默认"))
    effective_from = models.DateField(_("生效日期"))
    effective_until = models.DateField(_("失效日期"), null=True, blank=True)
    retention_months = models.PositiveSmallIntegerField(_("保存期限(月)"), default=60)
    required_kinds = models.JSONField(
        _("每场必备资料"),
        default=list,
        blank=True,
        help_text=_('缺少即列为督查发现,如 ["room_photo", "report", "attendance"];attendance 也可由签到记录满足'),
    )
    basis = models.CharField(_("依据"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("考务资料保存期限")
        verbose_name_plural = _("考务资料保存期限")
        ordering = ["region_prefix", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "effective_from"], name="uniq_evidence_retention_policy")
        ]

    def __str__(self) -> str:
        return f"{self.region_prefix or '全国'} {self.effective_from} {self.retention_months}"


class SessionEvidence(models.Model):
    """One piece of evidence of one session. Kept at least until `retain_until`; after that its file is destroyed
    by the daily purge (assessments.evidence.services.evidence_purge_due) and the row stays as a tombstone: what it
    was, its hash, when and by whom it was destroyed. Evidence of a plan under an open review or complaint waits."""

    class Kind(models.TextChoices):
        ROOM_PHOTO = "room_photo", _("考场照片")
        SUPERVISOR_REPORT = "report", _("督导报告")
        VIDEO = "video", _("录像(存储位置与哈希)")
        ATTENDANCE = "attendance", _("签到表")

    component = models.ForeignKey(
        "assessments.PlanComponent", on_delete=models.PROTECT, related_name="evidence", verbose_name=_("考核科目")
    )
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("说明"), max_length=128)
    file = models.FileField(_("文件"), upload_to="evidence/%Y/", blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    video_location = models.CharField(_("录像存储位置"), max_length=255, blank=True)
    sha256 = models.CharField(_("内容哈希(SHA-256)"), max_length=64)
    retain_until = models.DateField(_("保存至"))
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(_("销毁时间"), null=True, blank=True)
    purged_by = models.CharField(_("销毁人"), max_length=160, blank=True, help_text=_("执行销毁的账号或定时任务"))

    class Meta:
        verbose_name = _("考务资料")
        verbose_name_plural = _("考务资料")
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="evidence_file_or_video",
                condition=(Q(kind="video") & ~Q(video_location=""))
                | (~Q(kind="video") & ~Q(file=""))
                | Q(purged_at__isnull=False),  # a tombstone: the file was destroyed after retention
            )
        ]

    def __str__(self) -> str:
        return f"{self.component_id} {self.kind} {self.title}"
