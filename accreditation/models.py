from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.identity import mask_phone


class Organisation(models.Model):
    """An employer (Y) or social training/evaluation organisation (S) that is, or wants to be, an evaluator."""

    class Kind(models.TextChoices):
        EMPLOYER = "Y", _("用人单位")
        SOCIAL = "S", _("社会培训评价组织")

    name = models.CharField(_("机构名称"), max_length=128)
    kind = models.CharField(_("机构类型"), max_length=1, choices=Kind.choices)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, verbose_name=_("所在地区"))
    address = models.CharField(_("地址"), max_length=255, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    provides_training = models.BooleanField(_("同时开展培训"), default=False)
    school_kind = models.CharField(
        _("院校类别"),
        max_length=24,
        blank=True,
        choices=[
            ("technical_school", _("技工学校")),
            ("advanced_technical", _("高级技工学校")),
            ("technician_college", _("技师学院")),
            ("secondary_vocational", _("中等职业学校")),
            ("higher_vocational", _("高等职业学校")),
        ],
        help_text=_("技工院校或职业院校作为评价机构备案时填写,可为应届毕业班整班认定(双证书)"),
    )
    number_prefix = models.CharField(
        _("证书编号前缀"),
        max_length=13,
        unique=True,
        null=True,
        blank=True,
        help_text=_("备案通过时由人社部门赋予"),
    )
    seal = models.ImageField(
        _("印章图片"),
        upload_to="seals/%Y/",
        blank=True,
        help_text=_("盖在证书上的机构印章(PNG 或 JPEG,白底将转为透明)"),
    )
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价机构")
        verbose_name_plural = _("评价机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_school(self) -> bool:
        return bool(self.school_kind)

    @property
    def masked_contact_phone(self) -> str:
        return mask_phone(self.contact_phone)

    @cached_property
    def public_filing(self) -> "Filing | None":
        """The filing the public directory shows: the one `selectors.directory` picked for this row, else the
        newest filing that was ever approved (None for an organisation never filed)."""
        qs = self.filings.filter(status__in=Filing.PUBLIC).prefetch_related(
            "scope_lines__levels", "scope_lines__occupation"
        )
        filing_id = getattr(self, "public_filing_id", None)
        return (qs.filter(pk=filing_id) if filing_id else qs.order_by("-valid_from", "-id")).first()


class Filing(models.Model):
    """A filing (备案) application: the organisation asks a bureau to file it as an evaluator for a scope."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        UNDER_REVIEW = "under_review", _("审核中")
        RETURNED = "returned", _("退回修改")
        APPROVED = "approved", _("已备案")
        REJECTED = "rejected", _("不予备案")
        SUSPENDED = "suspended", _("暂停")
        REVOKED = "revoked", _("撤销")
        EXPIRED = "expired", _("已过期")

    OPEN = (Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW, Status.RETURNED)
    IN_FORCE = (Status.APPROVED, Status.SUSPENDED)
    PUBLIC = (Status.APPROVED, Status.SUSPENDED, Status.REVOKED, Status.EXPIRED)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="filings")
    national_code = models.CharField(
        _("全国备案机构代码"), max_length=4, default="0000", help_text=_("省级备案填0000;全国备案填0001—9999")
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    note = models.TextField(_("申请说明"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("审核人")
    )
    status_reason = models.TextField(_("最近一次状态变更理由"), blank=True)
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("备案申请")
        verbose_name_plural = _("备案申请")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(status__in=["draft", "submitted", "under_review", "returned"]),
                name="one_open_filing_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(status__in=["approved", "suspended"]),
                name="one_filing_in_force_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} · {self.get_status_display()}"

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)


class ScopeLine(models.Model):
    """One occupation and the levels the organisation may assess in it."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="scope_lines")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    occupation_edition = models.CharField(_("职业编码所依大典版本"), max_length=8, default="2022")
    levels = models.ManyToManyField("occupations.Level", verbose_name=_("等级"))

    class Meta:
        verbose_name = _("备案范围")
        verbose_name_plural = _("备案范围")
        constraints = [models.UniqueConstraint(fields=["filing", "occupation"], name="uniq_scope_occupation")]

    def __str__(self) -> str:
        return f"{self.occupation.name}({'、'.join(lv.name for lv in self.sorted_levels)})"

    @property
    def sorted_levels(self):
        return sorted(self.levels.all(), key=lambda lv: lv.rank)

    @property
    def highest_level(self):
        levels = self.sorted_levels
        return levels[-1] if levels else None


class FilingAttachment(models.Model):
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("材料名称"), max_length=128)
    file = models.FileField(_("文件"), upload_to="filings/%Y/%m/")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("备案材料")
        verbose_name_plural = _("备案材料")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.title


class PrefixCounter(models.Model):
    """The last organisation serial handed out in a province (positions 8–13 of the certificate number).

    Serials only go up, so a prefix is never handed out twice, even if an organisation is later revoked."""

    province_code = models.CharField(max_length=2, unique=True)
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("机构序号计数器")
        verbose_name_plural = _("机构序号计数器")

    def __str__(self) -> str:
        return f"{self.province_code}: {self.last_serial}"


class FilingReminder(models.Model):
    """Marks an expiry reminder as sent, so the daily job sends each one once."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["filing", "days_before"], name="uniq_filing_reminder")]

    def __str__(self) -> str:
        return f"{self.filing_id} -{self.days_before}d"


class Appointment(models.Model):
    """A person registered in a role: assessor (考评员), trainer, internal supervisor (内督) with an organisation,
    or external supervisor (外督) with a bureau."""

    class Role(models.TextChoices):
        ASSESSOR = "assessor", _("考评员")
        TRAINER = "trainer", _("培训教师")
        INTERNAL_SUPERVISOR = "internal_supervisor", _("内部督导员")
        EXTERNAL_SUPERVISOR = "external_supervisor", _("外部督导员")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在册")
        WITHDRAWN = "withdrawn", _("已注销")

    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="appointments")
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    bureau = models.ForeignKey(
        "accounts.Bureau", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    qualification_note = models.CharField(_("资质说明"), max_length=255, blank=True)
    evidence = models.FileField(_("资质证明"), upload_to="appointments/%Y/", blank=True)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("人员登记")
        verbose_name_plural = _("考评、督导与培训人员")
        ordering = ["person__name"]
        constraints = [
            models.CheckConstraint(
                name="appointment_scope_matches_role",
                condition=(
                    models.Q(role="external_supervisor", bureau__isnull=False, organisation__isnull=True)
                    | (
                        ~models.Q(role="external_supervisor")
                        & models.Q(organisation__isnull=False, bureau__isnull=True)
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} · {self.get_role_display()}"

    def is_valid_on(self, day) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


class AppointmentScope(models.Model):
    """An occupation an appointment covers, and for assessors the highest level they may assess."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="scopes")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    max_level = models.ForeignKey(
        "occupations.Level", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("最高可考评等级")
    )

    class Meta:
        verbose_name = _("人员职业范围")
        verbose_name_plural = _("人员职业范围")
        constraints = [
            models.UniqueConstraint(fields=["appointment", "occupation"], name="uniq_appointment_occupation")
        ]

    def __str__(self) -> str:
        return f"{self.occupation.name}" + (f" ≤{self.max_level.name}" if self.max_level_id else "")


class TrainingRecord(models.Model):
    """Who trained whom: the data 考培分离 is enforced from."""

    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="training_records", verbose_name=_("培训机构")
    )
    trainer = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, related_name="trainings_given", verbose_name=_("培训教师")
    )
    trainee = models.ForeignKey(
        "accounts.Person", on_delete=models.PROTECT, related_name="trainings_received", verbose_name=_("学员")
    )
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("培训记录")
        verbose_name_plural = _("培训记录")
        ordering = ["-start"]
        indexes = [models.Index(fields=["trainee", "end"]), models.Index(fields=["trainer", "end"])]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "trainer", "trainee", "occupation", "start"], name="uniq_training_record"
            ),
            models.CheckConstraint(name="training_end_after_start", condition=models.Q(end__gte=models.F("start"))),
        ]

    def __str__(self) -> str:
        return f"{self.trainer.name} → {self.trainee.name} · {self.occupation.name}"
