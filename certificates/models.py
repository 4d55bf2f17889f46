"""Certificates: the national number, the printed fields they were signed over, and their status history."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Positions in the credential status lists (certificates/credentials.py): each certificate holds one in one list,
# drawn at random from the list's capacity, so a list reveals neither how many certificates exist nor which one a
# set bit belongs to. The capacity of list 0, the first list, and the default for every new list
# (settings.STATUS_LIST_CAPACITY): 4,194,304 bits, 512 KB before compression.
STATUS_LIST_CAPACITY = 2**22


def random_status_index() -> int:
    """A candidate position in list 0 (the field's default, for rows made outside certificates/status_index.py, which
    draws in the open list and makes the position unused and unique when the row is inserted)."""
    return secrets.randbelow(STATUS_LIST_CAPACITY)


class StatusList(models.Model):
    """One Bitstring Status List's range of positions. New certificates go to the open list (the lowest-numbered one
    not full); it becomes full once `assigned` passes settings.STATUS_LIST_FILL of its capacity, while drawing a free
    random position is still cheap, and the next list opens. A list keeps its number, capacity and URL for good."""

    number = models.PositiveIntegerField(_("列表编号"), primary_key=True)
    capacity = models.PositiveIntegerField(_("容量(位)"))
    # Kept by certificates/status_index.py just after the inserting transaction commits; recounted hourly.
    assigned = models.PositiveIntegerField(_("已分配位置"), default=0)
    full_at = models.DateTimeField(_("停止分配时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证书状态列表")
        verbose_name_plural = _("证书状态列表")

    def __str__(self) -> str:
        return f"{self.number}: {self.assigned}/{self.capacity}"


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        SUSPENDED = "suspended", _("暂停")
        REVOKED = "revoked", _("撤销")
        SUPERSEDED = "superseded", _("已换发")

    class Kind(models.TextChoices):
        SKILL_LEVEL = "skill_level", _("职业技能等级证书")
        QUALIFICATION = "qualification", _("职业资格证书(改革前)")

    number = models.CharField(_("证书编号"), max_length=32, unique=True)
    kind = models.CharField(_("证书类别"), max_length=16, choices=Kind.choices, default=Kind.SKILL_LEVEL)
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="certificates")
    organisation = models.ForeignKey(
        "accreditation.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    registration = models.OneToOneField(
        "assessments.Registration", null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    occupation = models.ForeignKey("occupations.Occupation", null=True, blank=True, on_delete=models.PROTECT)
    level = models.ForeignKey("occupations.Level", on_delete=models.PROTECT)
    # What is printed and signed, frozen at issue: a later rename of the organisation does not alter a certificate.
    holder_name = models.CharField(_("姓名"), max_length=64)
    id_type = models.CharField(_("证件类型"), max_length=20)
    id_number = models.CharField(_("证件号码"), max_length=32)
    occupation_name = models.CharField(_("职业名称"), max_length=64)
    # The code as issued and the 大典 edition it belongs to: a historical certificate may carry a 2015 code,
    # while `occupation` is the 2022 occupation it maps to (occupations.OccupationCodeMapping), or none if unknown.
    occupation_code = models.CharField(_("职业编码(证书所载)"), max_length=16, blank=True)
    occupation_edition = models.CharField(_("职业编码所依大典版本"), max_length=8, default="2022")
    work_type = models.CharField(_("工种/职业方向"), max_length=64, blank=True)
    organisation_name = models.CharField(_("评价机构名称"), max_length=128)
    issued_on = models.DateField(_("发证日期"), db_index=True)
    region_code = models.CharField(_("发证地区"), max_length=6, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.VALID)
    status_reason = models.CharField(_("状态说明(公开)"), max_length=255, blank=True)
    status_changed_on = models.DateField(_("状态生效日期"), null=True, blank=True)
    superseded_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    imported = models.BooleanField(_("历史证书导入"), default=False)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True, help_text=_("一般不设;个别历史证书有有效期"))
    token = models.CharField(max_length=200)
    copies = models.PositiveSmallIntegerField(
        _("份数"), default=1, help_text=_("补发一次加一:同一证书编号的新一份,原件二维码仍然有效")
    )
    ecert_id = models.CharField(
        _("电子证照标识"),
        max_length=96,
        null=True,
        blank=True,
        help_text=_("GB/T 36904 电子证照标识;导入的历史证书无备案机构代码时为空"),
    )
    # Which status list (StatusList.number) and where in it; the pair is unique.
    status_list = models.PositiveIntegerField(_("状态列表"), default=0, editable=False)
    status_index = models.PositiveIntegerField(_("状态列表位置"), default=random_status_index, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        ordering = ["-issued_on", "number"]
        indexes = [
            models.Index(fields=["person", "occupation", "level"]),
            models.Index(fields=["status"], name="certificate_status"),
            # The dashboards' refresh finds recently created certificates (oversight/aggregates.py) by this.
            models.Index(fields=["created_at"], name="certificate_created_at"),
            # Building a status list (certificates/credentials.py) reads only its list's flagged positions, from
            # this small index alone, not every revoked certificate of every list.
            models.Index(
                fields=["status_list", "status"],
                include=["status_index", "organisation_id"],
                condition=Q(status__in=["revoked", "superseded", "suspended"]),
                name="certificate_flagged_position",
            ),
        ]
        # Token, e-certificate identifier and status as constraints and a plain index rather than unique=True /
        # db_index=True, which on PostgreSQL add a second, prefix-search (varchar_pattern_ops) index each: nothing
        # searches these by prefix, and at 10,000,000 certificates the two extra copies of the token and identifier
        # indexes took 5.2 GB and every insert maintained them.
        constraints = [
            models.UniqueConstraint(fields=["status_list", "status_index"], name="uniq_certificate_status_position"),
            models.UniqueConstraint(fields=["token"], name="uniq_certificate_token"),
            models.UniqueConstraint(fields=["ecert_id"], name="uniq_certificate_ecert_id"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.holder_name}"


class NumberCounter(models.Model):
    """The last certificate serial an organisation used for a (year, level); locked while numbering."""

    prefix = models.CharField(max_length=13)
    year = models.CharField(max_length=2)
    level_digit = models.CharField(max_length=1)
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year", "level_digit"], name="uniq_number_counter")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}{self.level_digit}: {self.last_serial}"


class IssueBatch(models.Model):
    """One issuance run for a finalised plan, watched by the organisation as it progresses."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("签发中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    plan = models.ForeignKey("assessments.Plan", on_delete=models.PROTECT, related_name="issue_batches")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    issued_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("证书签发批次")
        verbose_name_plural = _("证书签发批次")
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status__in=["queued", "running"]), name="one_running_batch_per_plan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.done}/{self.total}"


class VerificationLog(models.Model):
    """One verification: when, through which channel, with what result. Nothing about who verified."""

    class Channel(models.TextChoices):
        SCAN = "scan", _("扫码页面")
        API = "api", _("接口")
        LOOKUP = "lookup", _("编号查询")

    at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    result = models.CharField(max_length=16, db_index=True)
    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="verifications"
    )
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    region_code = models.CharField(max_length=6, blank=True, db_index=True)

    class Meta:
        verbose_name = _("核验记录")
        verbose_name_plural = _("核验记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.channel} {self.result}"


class VerificationLogArchive(models.Model):
    """A month of the verification log moved out of the database into a compressed file (certificates/log_partitions.py)."""

    month = models.DateField(_("月份"), unique=True)
    rows = models.BigIntegerField(_("记录数"))
    path = models.CharField(_("归档文件"), max_length=512)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(_("文件大小"))
    archived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("核验记录归档")
        verbose_name_plural = _("核验记录归档")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.rows})"
