from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditHead(models.Model):
    """The chain's tip. Locked by every append so that entries get consecutive numbers and hashes."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class AuditEntry(models.Model):
    """One state change. Append-only: each entry's hash covers its content and the previous hash."""

    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("操作者"), max_length=128)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64)
    region_code = models.CharField(_("所属区划"), max_length=6, blank=True, db_index=True)
    organisation_id = models.BigIntegerField(_("所属机构"), null=True, blank=True, db_index=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计日志")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")


class Notification(models.Model):
    """An in-app message (也发送邮件 where the user has an address): reminders, decisions, changes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class RetentionPeriod(models.Model):
    """How long something the platform keeps is kept: data with an effective date, like every rule that can change
    (an archives regulation, a provincial notice). The period in force on a day is the latest that took effect."""

    class Subject(models.TextChoices):
        EXPORT_FILES = "export_files", _("导出文件")
        VERIFICATION_LOG = "verification_log", _("核验记录(在线库)")

    subject = models.CharField(_("对象"), max_length=32, choices=Subject.choices)
    days = models.PositiveIntegerField(_("保存天数"))
    effective_from = models.DateField(_("施行日期"))
    basis = models.CharField(_("依据"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("保存期限")
        verbose_name_plural = _("保存期限")
        ordering = ["subject", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "effective_from"], name="uniq_retention_subject_from")
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.days}d ({self.effective_from})"


class Export(models.Model):
    """A file built by a worker for the user who asked for it (a data report of a million rows), kept for the
    export-file retention period and then deleted. Only its owner can see or download it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPIRED = "expired", _("已过期删除")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField(_("导出类型"), max_length=64)
    title = models.CharField(_("名称"), max_length=128)
    file_format = models.CharField(_("格式"), max_length=8)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    done = models.PositiveIntegerField(_("已写行数"), default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    filename = models.CharField(_("下载文件名"), max_length=128)
    size = models.BigIntegerField(_("文件大小"), default=0)
    error = models.TextField(_("失败原因"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # the writing worker's heartbeat
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("保留至"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("导出文件")
        verbose_name_plural = _("导出文件")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
