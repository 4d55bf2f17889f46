import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- Complaints (举报), their handling, sanctions and the exposure list (曝光) ---------------------------------


class ComplaintKind(models.TextChoices):
    FAKE_CERTIFICATE = "fake_certificate", _("假证:伪造、变造或冒用证书")
    GUAZHENG = "guazheng", _("挂证:证书挂靠、出租出借")
    TRAINED_EXAMINER = "trained_examiner", _("考培不分离:考评人员培训过考生")
    CANCELLED_QUALIFICATION = "cancelled_qualification", _("要求提供已取消的职业资格")
    OTHER = "other", _("其他违规行为")


class ComplaintPolicy(models.Model):
    """How many working days a bureau has to answer a complaint. Varies by region and kind, so it is data.

    The most specific row wins: a kind-specific row over an all-kinds row, a longer region prefix over a shorter
    one, the latest effective date not after the day the complaint was received.
    """

    region_prefix = models.CharField(
        _("适用地区代码前缀"), max_length=6, blank=True, help_text=_("空为全国默认;22 为吉林省;2201 为长春市")
    )
    kind = models.CharField(
        _("举报类型"), max_length=32, choices=ComplaintKind.choices, blank=True, help_text=_("空为所有类型")
    )
    response_working_days = models.PositiveSmallIntegerField(_("答复期限(工作日)"), default=15)
    effective_from = models.DateField(_("生效日期"))
    notes = models.CharField(_("依据"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("举报办理时限")
        verbose_name_plural = _("举报办理时限")
        ordering = ["region_prefix", "kind", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "kind", "effective_from"], name="uniq_complaint_policy")
        ]

    def __str__(self) -> str:
        return f"{self.region_prefix or '全国'} {self.kind or '*'} {self.response_working_days}"


class DeadlineQuerySet(models.QuerySet):
    """Cases and rectifications both run against a deadline (`due_on`) while they are still open."""

    def open(self):
        return self.filter(status__in=self.model.OPEN)

    def overdue(self, today: datetime.date | None = None):
        """Still open after the day of their deadline."""
        return self.open().filter(due_on__lt=today or timezone.localdate())


class Complaint(models.Model):
    """A case: a report from the public (举报), or a suspicion the platform's data checks raised (e.g. 挂证).

    The reporter's identity and contact never leave this row: not in the audit log, not on the exposure list,
    not in the API for anyone but the handling bureau. Anonymous reporters follow the case with a tracking code
    of which only the SHA-256 is stored.
    """

    Kind = ComplaintKind

    class Status(models.TextChoices):
        RECEIVED = "received", _("待受理")
        ACCEPTED = "accepted", _("已受理")
        INVESTIGATING = "investigating", _("调查中")
        CLOSED = "closed", _("已办结")
        REJECTED = "rejected", _("不予受理")

    class Source(models.TextChoices):
        PUBLIC = "public", _("群众举报")
        DETECTION = "detection", _("数据比对发现")

    class Outcome(models.TextChoices):
        SUBSTANTIATED = "substantiated", _("查实")
        PARTLY = "partly", _("部分查实")
        UNSUBSTANTIATED = "unsubstantiated", _("查无实据")

    OPEN = (Status.RECEIVED, Status.ACCEPTED, Status.INVESTIGATING)

    number = models.CharField(_("案件编号"), max_length=16, unique=True, null=True, blank=True)
    tracking_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.PUBLIC)
    kind = models.CharField(_("举报类型"), max_length=32, choices=ComplaintKind.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("管辖地区")
    )
    organisation = models.ForeignKey(
        "accreditation.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("涉及机构"),
    )
    certificate = models.ForeignKey(
        "certificates.Certificate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("涉及证书"),
    )
    certificate_number = models.CharField(_("证书编号(举报人填写)"), max_length=32, blank=True)
    plan = models.ForeignKey(
        "assessments.Plan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("涉及认定计划"),
    )
    qualification = models.ForeignKey(
        "occupations.Qualification",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("被要求的已取消职业资格"),
    )
    subject_name = models.CharField(_("被举报单位或个人"), max_length=128, blank=True)
    description = models.TextField(_("举报内容"))
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_name = models.CharField(_("举报人姓名"), max_length=64, blank=True)
    reporter_contact = models.CharField(_("举报人联系方式"), max_length=128, blank=True)
    received_on = models.DateField(_("收到日期"))
    due_on = models.DateField(_("答复期限"))
    due_provisional = models.BooleanField(_("期限按暂定日历计算"), default=False)
    due_note = models.CharField(_("期限计算说明"), max_length=128, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_complaints",
        verbose_name=_("承办人"),
    )
    outcome = models.CharField(_("办理结果"), max_length=16, choices=Outcome.choices, blank=True)
    finding = models.TextField(_("调查认定的事实"), blank=True)
    measures = models.TextField(_("处理措施"), blank=True)
    reply = models.TextField(_("答复举报人"), blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    overdue_notified_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("举报与案件")
        verbose_name_plural = _("举报与案件")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def subject_label(self) -> str:
        if self.organisation_id:
            return self.organisation.name
        if self.certificate_id:
            return self.certificate.number
        if self.plan_id:
            return self.plan.title
        return self.certificate_number or self.subject_name


def _random_upload_name(folder: str, filename: str) -> str:
    """Stored under a random name: uploads are served only through permission-checked views."""
    import secrets
    from pathlib import PurePath

    from django.utils import timezone

    suffix = PurePath(filename).suffix.lower()[:6]
    return f"{folder}/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{suffix}"


def complaint_upload_to(instance, filename: str) -> str:
    return _random_upload_name("complaints", filename)


def rectification_upload_to(instance, filename: str) -> str:
    return _random_upload_name("rectifications", filename)


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("文件名"), max_length=128)
    file = models.FileField(_("文件"), upload_to=complaint_upload_to)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    from_reporter = models.BooleanField(_("举报人提交"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("举报材料")
        verbose_name_plural = _("举报材料")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.title


class ComplaintNote(models.Model):
    """What the officer found out, step by step (调查记录). Internal: never shown to the reporter or public."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("调查记录"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("调查记录")
        verbose_name_plural = _("调查记录")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:40]


class Sanction(models.Model):
    """A measure taken on a case or an inspection: a warning, or a certificate or filing suspended or revoked.

    Certificate and filing measures are carried out by their own services (so their status, public pages and
    audit entries follow); this row records that the case or inspection was the reason.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("警告并责令改正")
        CRITICISM = "criticism", _("通报批评")
        CERTIFICATE_SUSPENDED = "certificate_suspended", _("暂停证书")
        CERTIFICATE_REVOKED = "certificate_revoked", _("撤销证书")
        FILING_SUSPENDED = "filing_suspended", _("暂停备案")
        FILING_REVOKED = "filing_revoked", _("撤销备案")

    CERTIFICATE_KINDS = (Kind.CERTIFICATE_SUSPENDED, Kind.CERTIFICATE_REVOKED)
    FILING_KINDS = (Kind.FILING_SUSPENDED, Kind.FILING_REVOKED)

    kind = models.CharField(_("处理措施"), max_length=24, choices=Kind.choices)
    organisation = models.ForeignKey(
        "accreditation.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sanctions",
        verbose_name=_("被处理单位"),
    )
    certificate = models.ForeignKey(
        "certificates.Certificate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sanctions",
        verbose_name=_("涉及证书"),
    )
    complaint = models.ForeignKey(Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions")
    inspection = models.ForeignKey(
        "oversight.Inspection", null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions"
    )
    reason = models.TextField(_("理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("决定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("处理措施")
        verbose_name_plural = _("处理措施")
        ordering = ["decided_at"]
        constraints = [
            models.CheckConstraint(
                name="sanction_has_one_origin",
                condition=models.Q(complaint__isnull=False) ^ models.Q(inspection__isnull=False),
            ),
            models.CheckConstraint(
                name="sanction_has_a_target",
                condition=models.Q(organisation__isnull=False) | models.Q(certificate__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Exposure(models.Model):
    """An entry on the public exposure list (曝光台): what was found and what was done. Written only from fields
    chosen for publication, so nothing about the reporter, and no full ID number, can reach it."""

    reference = models.CharField(_("案件或督查编号"), max_length=16, db_index=True)
    complaint = models.OneToOneField(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="exposure"
    )
    inspection = models.OneToOneField(
        "oversight.Inspection", null=True, blank=True, on_delete=models.PROTECT, related_name="exposure"
    )
    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("问题类型"), max_length=64)
    subject = models.CharField(_("对象"), max_length=200)
    finding = models.TextField(_("查实的问题"))
    measures = models.TextField(_("处理结果"))
    published_on = models.DateField(_("曝光日期"), db_index=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    withdrawn_at = models.DateTimeField(_("撤下时间"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("撤下理由"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("曝光")
        verbose_name_plural = _("曝光台")
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"


# --- 挂证: who relies on which certificate, social-insurance records, and the flags raised ---------------------


class CertificateReliance(models.Model):
    """An employer declares that it relies on a certificate holder (e.g. to meet a 资质 staffing requirement)."""

    class Purpose(models.TextChoices):
        QUALIFICATION_FILING = "qualification_filing", _("企业资质申报")
        BIDDING = "bidding", _("招投标")
        LICENCE = "licence", _("行政许可申请")
        EVALUATION = "evaluation", _("评价机构备案")
        OTHER = "other", _("其他")

    employer = models.ForeignKey(
        "accreditation.Organisation",
        on_delete=models.PROTECT,
        related_name="certificate_reliances",
        verbose_name=_("使用单位"),
    )
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, related_name="reliances", verbose_name=_("证书")
    )
    purpose = models.CharField(_("用途"), max_length=24, choices=Purpose.choices)
    purpose_note = models.CharField(_("用途说明"), max_length=255, blank=True)
    start = models.DateField(_("使用起始日期"))
    end = models.DateField(_("使用截止日期"), null=True, blank=True, help_text=_("空表示仍在使用"))
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("证书使用申报")
        verbose_name_plural = _("证书使用申报")
        ordering = ["-start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "certificate", "start"], name="uniq_reliance_start"),
            models.CheckConstraint(
                name="reliance_end_after_start",
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer} · {self.certificate_id}"


class InsuranceImport(models.Model):
    """One upload of social-insurance employment records (参保记录) for the period the extract covers."""

    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    period_from = models.DateField(_("数据起始月份"))
    period_to = models.DateField(_("数据截止月份"))
    rows = models.PositiveIntegerField(_("行数"), default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("参保数据导入")
        verbose_name_plural = _("参保数据导入")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period_from:%Y-%m}—{self.period_to:%Y-%m}"


class InsuranceRecord(models.Model):
    """A person insured by an employer from one month to another (end empty: still insured at extract time)."""

    batch = models.ForeignKey(InsuranceImport, on_delete=models.CASCADE, related_name="records")
    id_number = models.CharField(_("证件号码"), max_length=32, db_index=True)
    name = models.CharField(_("姓名"), max_length=64)
    employer_credit_code = models.CharField(_("参保单位统一社会信用代码"), max_length=18, db_index=True)
    employer_name = models.CharField(_("参保单位名称"), max_length=128)
    start_month = models.DateField(_("起始月份"))
    end_month = models.DateField(_("截止月份"), null=True, blank=True)

    class Meta:
        verbose_name = _("参保记录")
        verbose_name_plural = _("参保记录")

    def __str__(self) -> str:
        return f"{self.name} @ {self.employer_name}"


class GuazhengFlag(models.Model):
    """A suspicion of 挂证 raised by comparing declarations with insurance records, with its evidence."""

    class Rule(models.TextChoices):
        MULTIPLE_EMPLOYERS = "multiple_employers", _("同一证书同期被多家单位使用")
        NO_INSURANCE = "no_insurance", _("使用单位未为持证人缴纳社会保险")

    class Status(models.TextChoices):
        OPEN = "open", _("待核查")
        INVESTIGATING = "investigating", _("已立案调查")
        CONFIRMED = "confirmed", _("已查实")
        DISMISSED = "dismissed", _("已排除")
        CLEARED = "cleared", _("数据更新后不再成立")

    rule = models.CharField(_("比对规则"), max_length=24, choices=Rule.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    certificate = models.ForeignKey("certificates.Certificate", on_delete=models.PROTECT, related_name="guazheng_flags")
    employer = models.ForeignKey("accreditation.Organisation", on_delete=models.PROTECT, related_name="+")
    other_employer = models.ForeignKey(
        "accreditation.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reliance = models.ForeignKey(CertificateReliance, on_delete=models.PROTECT, related_name="+")
    other_reliance = models.ForeignKey(
        CertificateReliance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateField(_("疑点期间起"))
    period_end = models.DateField(_("疑点期间止"))
    evidence = models.JSONField(_("依据"), default=dict)
    fingerprint = models.CharField(max_length=128, unique=True)
    complaint = models.OneToOneField(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="guazheng_flag"
    )
    resolution = models.TextField(_("处理说明"), blank=True)
    detected_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("挂证疑点")
        verbose_name_plural = _("挂证疑点")
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.certificate_id}"


class ComebackFinding(models.Model):
    """Something on the platform that still requires or offers a cancelled qualification (notice section 一).

    Raised by oversight.comebacks' scan, one per (qualification, object, field); the bureau dismisses it or
    turns it into (or links it with) a case of kind `cancelled_qualification`.
    """

    class Target(models.TextChoices):
        SCOPE_LINE = "scope_line", _("备案范围")
        PLAN = "plan", _("认定计划")
        ORGANISATION = "organisation", _("机构名称")
        ATTACHMENT = "attachment", _("备案材料")
        FILING = "filing", _("备案申请说明")

    class Status(models.TextChoices):
        OPEN = "open", _("待核查")
        INVESTIGATING = "investigating", _("已立案调查")
        CONFIRMED = "confirmed", _("已查实")
        DISMISSED = "dismissed", _("已排除")
        CLEARED = "cleared", _("数据更新后不再成立")

    qualification = models.ForeignKey(
        "occupations.Qualification", on_delete=models.PROTECT, related_name="+", verbose_name=_("已取消的职业资格")
    )
    target = models.CharField(_("发现位置"), max_length=16, choices=Target.choices)
    object_id = models.BigIntegerField(_("对象编号"))
    field = models.CharField(_("字段"), max_length=32)
    term = models.CharField(_("匹配词"), max_length=128)
    excerpt = models.CharField(_("原文摘录"), max_length=255)
    organisation = models.ForeignKey(
        "accreditation.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("涉及机构")
    )
    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    fingerprint = models.CharField(max_length=128, unique=True)
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="comeback_findings"
    )
    resolution = models.TextField(_("处理说明"), blank=True)
    detected_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("变相恢复疑点")
        verbose_name_plural = _("变相恢复疑点")
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.qualification_id} {self.get_target_display()} {self.object_id}"


# --- Inspections (督查) and rectification with deadlines (限期整改) ---------------------------------------------


class InspectionDraw(models.Model):
    """A random selection of organisations to inspect (双随机): the pool, the seed and the result, reproducible."""

    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+")
    requested = models.PositiveSmallIntegerField(_("抽取数量"))
    seed = models.BigIntegerField(_("随机种子"))
    pool = models.JSONField(_("候选机构"), default=list)
    chosen = models.JSONField(_("抽中机构"), default=list)
    scheduled_on = models.DateField(_("计划检查日期"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("随机抽查")
        verbose_name_plural = _("随机抽查")
        ordering = ["-drawn_at"]

    def __str__(self) -> str:
        return f"{self.region_id} {self.drawn_at:%Y-%m-%d} {len(self.chosen)}/{len(self.pool)}"


class Inspection(models.Model):
    class Kind(models.TextChoices):
        RANDOM = "random", _("随机抽查")
        TARGETED = "targeted", _("专项督查")

    class Status(models.TextChoices):
        PLANNED = "planned", _("已计划")
        RECORDED = "recorded", _("已检查")
        RECTIFYING = "rectifying", _("整改中")
        CLOSED = "closed", _("已结案")

    number = models.CharField(_("督查编号"), max_length=16, unique=True, null=True, blank=True)
    organisation = models.ForeignKey(
        "accreditation.Organisation", on_delete=models.PROTECT, related_name="inspections", verbose_name=_("被检查机构")
    )
    kind = models.CharField(_("方式"), max_length=16, choices=Kind.choices)
    draw = models.ForeignKey(
        InspectionDraw, null=True, blank=True, on_delete=models.PROTECT, related_name="inspections"
    )
    reason = models.TextField(_("督查事由"), blank=True)
    scheduled_on = models.DateField(_("计划检查日期"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("检查组长"),
    )
    conducted_on = models.DateField(_("检查日期"), null=True, blank=True)
    results = models.JSONField(_("检查结果"), default=dict, blank=True)
    summary = models.TextField(_("检查情况"), blank=True)
    conclusion = models.TextField(_("结案意见"), blank=True)
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督查")
        verbose_name_plural = _("督查")
        ordering = ["-scheduled_on", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.organisation}"


class Rectification(models.Model):
    """One thing the organisation must put right by a deadline counted in working days (限期整改)."""

    class Status(models.TextChoices):
        OPEN = "open", _("待整改")
        SUBMITTED = "submitted", _("待验收")
        VERIFIED = "verified", _("已验收")

    OPEN = (Status.OPEN,)

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="rectifications")
    item = models.CharField(_("检查项"), max_length=24)
    requirement = models.TextField(_("整改要求"))
    working_days = models.PositiveSmallIntegerField(_("整改期限(工作日)"))
    ordered_on = models.DateField(_("下达日期"))
    due_on = models.DateField(_("整改期限"), db_index=True)
    due_provisional = models.BooleanField(_("期限按暂定日历计算"), default=False)
    due_note = models.CharField(_("期限计算说明"), max_length=128, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    evidence_text = models.TextField(_("整改情况"), blank=True)
    evidence_file = models.FileField(_("整改材料"), upload_to=rectification_upload_to, blank=True)
    evidence_content_type = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(_("验收意见"), blank=True)
    overdue_notified_on = models.DateField(null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.inspection_id} · {self.item} · {self.due_on}"

    def is_overdue_on(self, day) -> bool:
        """Overdue while still waiting for the organisation after the deadline; a submission stops the clock."""
        return self.status == self.Status.OPEN and day > self.due_on


class DailyCount(models.Model):
    """Pre-aggregated counts per day and region for the dashboards at province size (oversight/aggregates.py):
    certificates issued (by issue date) and verifications (by day and result). Complete days only; today is
    always counted live."""

    class Kind(models.TextChoices):
        CERTIFICATES = "certificates", _("发证数")
        VERIFICATIONS = "verifications", _("核验次数")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    day = models.DateField()
    region_code = models.CharField(max_length=6, blank=True)
    key = models.CharField(max_length=16, blank=True)  # the verification result; "" for certificates
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("每日统计")
        verbose_name_plural = _("每日统计")
        constraints = [models.UniqueConstraint(fields=["kind", "day", "region_code", "key"], name="uniq_daily_count")]
        indexes = [models.Index(fields=["kind", "day"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.region_code} {self.key}: {self.n}"
