"""Assessments: plans, registrations, panels, scores, publicity and results.

A plan belongs to one organisation, one occupation (and its standard in force) and one or more levels. Each
candidate's registration moves through review, scoring and publicity to a final outcome that certificates
are issued from.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

COMPONENT_KINDS = [("theory", _("理论知识考试")), ("skills", _("操作技能考核")), ("review", _("综合评审"))]


class AssessmentPolicy(models.Model):
    """Rules that vary by province and year, as data: look-back for 考培分离, publicity length."""

    region_prefix = models.CharField(
        _("适用地区代码前缀"), max_length=6, blank=True, help_text=_("空为全国默认;22 为吉林省;2201 为长春市")
    )
    effective_from = models.DateField(_("生效日期"))
    training_lookback_months = models.PositiveSmallIntegerField(_("考培分离回溯期(月)"), default=36)
    publicity_working_days = models.PositiveSmallIntegerField(_("成绩公示期(工作日)"), default=5)
    employer_staff_check = models.CharField(
        _("用人单位评价非本单位职工"),
        max_length=8,
        choices=[("refuse", _("拒绝报名")), ("review", _("送人社部门审核"))],
        default="refuse",
        help_text=_(
            "用人单位(Y)只评价本单位职工(含派遣、实习人员):既无在本单位的参保记录、也未上传劳动合同或派遣协议的,如何处理"
        ),
    )
    employment_review_working_days = models.PositiveSmallIntegerField(
        _("本单位职工核验审核时限(工作日)"),
        default=5,
        help_text=_("送人社部门审核的报名,自报名次日起算的审核期限;逾期的在人社部门待办中排在最前并每日提醒"),
    )
    notes = models.CharField(_("依据"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("认定政策参数")
        verbose_name_plural = _("认定政策参数")
        ordering = ["region_prefix", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region_prefix", "effective_from"], name="uniq_assessment_policy")
        ]

    def __str__(self) -> str:
        return f"{self.region_prefix or '全国'} {self.effective_from}"


class Plan(models.Model):
    """认定计划/公告: what an organisation will assess, when, where, for how many."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        PUBLICITY = "publicity", _("成绩公示中")
        FINALISED = "finalised", _("已办结")
        CANCELLED = "cancelled", _("已取消")

    organisation = models.ForeignKey("accreditation.Organisation", on_delete=models.PROTECT, related_name="plans")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    standard = models.ForeignKey("occupations.Standard", on_delete=models.PROTECT, verbose_name=_("国家职业技能标准"))
    levels = models.ManyToManyField("occupations.Level", verbose_name=_("等级"))
    title = models.CharField(_("计划名称"), max_length=128)
    work_type = models.CharField(_("工种/职业方向"), max_length=64, blank=True)
    venue = models.CharField(_("考核地点"), max_length=255)
    capacity = models.PositiveIntegerField(_("计划人数"))
    registration_opens = models.DateField(_("报名开始"))
    registration_closes = models.DateField(_("报名截止"))
    fee = models.DecimalField(_("收费标准(元)"), max_digits=8, decimal_places=2, default=Decimal("0"))
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_reason = models.TextField(_("状态变更理由"), blank=True)
    supervisor = models.ForeignKey(
        "accreditation.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_plans",
        verbose_name=_("督导员"),
    )
    published_at = models.DateTimeField(null=True, blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("认定计划")
        verbose_name_plural = _("认定计划")
        ordering = ["-registration_opens", "-id"]

    def __str__(self) -> str:
        return self.title


class GraduatingClass(models.Model):
    """A school's graduating class assessed in one batch (双证书): students register together on one plan as
    final-year students, and their certificates carry the graduation date (see assessments/schools/services.py)."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="graduating_classes")
    name = models.CharField(_("班级名称"), max_length=64)
    major = models.CharField(_("专业"), max_length=64)
    education_kind = models.CharField(
        _("学历类别"), max_length=24, help_text=_("申报条件中的学历类别,如技工学校、技工院校高级工班")
    )
    graduation_date = models.DateField(_("毕业日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("毕业班")
        verbose_name_plural = _("毕业班(双证书)")
        ordering = ["-graduation_date", "name"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="uniq_graduating_class_per_plan")]

    def __str__(self) -> str:
        return f"{self.name}({self.major})"


class PlanComponent(models.Model):
    """When and where one component (theory, skills, review) of a plan takes place."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(_("科目"), max_length=8, choices=COMPONENT_KINDS)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    room = models.CharField(_("考场"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("考核科目安排")
        verbose_name_plural = _("考核科目安排")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind"], name="uniq_plan_component"),
            models.CheckConstraint(name="component_ends_after_start", condition=Q(ends_at__gt=models.F("starts_at"))),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class Registration(models.Model):
    """A person's application (报名) to be assessed at one level of one plan."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        MORE_EVIDENCE = "more_evidence", _("需补充材料")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核不通过")
        WITHDRAWN = "withdrawn", _("已撤回")
        CANCELLED = "cancelled", _("计划取消")

    class Outcome(models.TextChoices):
        PENDING = "", _("待定")
        PASSED = "passed", _("合格")
        FAILED = "failed", _("不合格")
        ABSENT = "absent", _("缺考")
        VOID = "void", _("成绩无效")

    ACTIVE = (Status.SUBMITTED, Status.MORE_EVIDENCE, Status.APPROVED)

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="registrations")
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="registrations")
    level = models.ForeignKey("occupations.Level", on_delete=models.PROTECT, verbose_name=_("申报等级"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    source = models.CharField(
        _("来源"),
        max_length=8,
        choices=[("online", _("个人网上报名")), ("bulk", _("单位批量报名")), ("school", _("院校毕业班整班报名"))],
        default="online",
    )
    graduating_class = models.ForeignKey(
        "GraduatingClass",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("毕业班"),
    )
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    employer_name = models.CharField(_("工作单位"), max_length=128, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    photo = models.ImageField(_("照片"), upload_to="registrations/%Y/", blank=True)
    work_years = models.DecimalField(_("本职业(相关职业)工作年限"), max_digits=4, decimal_places=1, default=0)
    work_history = models.TextField(_("工作经历"), blank=True)
    apprenticeship_completed = models.BooleanField(_("学徒期满"), default=False)
    education = models.JSONField(_("学历"), default=list, blank=True)
    prior_certificates = models.JSONField(_("已取得证书"), default=list, blank=True)
    titles = models.JSONField(_("职称"), default=list, blank=True)
    credentials = models.JSONField(_("其他证书(如预备技师)"), default=list, blank=True)
    pledge_accepted_at = models.DateTimeField(_("诚信承诺时间"))
    eligibility = models.JSONField(_("申报条件核验结果"), default=dict, blank=True)
    eligibility_status = models.CharField(_("申报条件"), max_length=16, blank=True)
    review_reason = models.TextField(_("审核意见"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    resit_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resits",
        verbose_name=_("补考所依据的报名"),
    )
    outcome = models.CharField(_("认定结果"), max_length=8, choices=Outcome.choices, default="", blank=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    employment_status = models.CharField(
        _("本单位职工核验"),
        max_length=8,
        blank=True,
        choices=[
            ("", _("不适用")),
            ("insured", _("本单位参保记录")),
            ("proof", _("劳动合同或派遣、实习协议")),
            ("review", _("待人社部门审核")),
            ("accepted", _("人社部门认可")),
            ("refused", _("人社部门不予认可")),
        ],
    )
    employment_note = models.TextField(_("本单位职工核验说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "person", "level"],
                condition=Q(status__in=["submitted", "more_evidence", "approved"]),
                name="one_active_registration_per_person_plan_level",
            )
        ]
        indexes = [models.Index(fields=["plan", "status"])]

    def __str__(self) -> str:
        return f"{self.person.name} · {self.plan} · {self.level}"

    ELIGIBILITY_LABELS = {
        "eligible": _("符合申报条件"),
        "needs_review": _("待人工核实"),
        "ineligible": _("不符合申报条件"),
    }

    def get_eligibility_status_display(self) -> str:
        """eligibility_status is assessments.eligibility.Status's value, kept without choices; this is its label."""
        return str(self.ELIGIBILITY_LABELS.get(self.eligibility_status, _("未核验")))


class CancellationChoice(models.Model):
    """A candidate of a plan announced before its qualification was cancelled: continue, or be refunded.

    Notice section 四: 根据考生意愿,或继续做好鉴定考试工作,或退费. Created for every active registration of the
    plans a confirmed catalogue change catches; a refund withdraws the registration from the plan.
    """

    class Choice(models.TextChoices):
        PENDING = "", _("待选择")
        CONTINUE = "continue", _("继续参加认定")
        REFUND = "refund", _("退费")

    change = models.ForeignKey(
        "occupations.CatalogueChange", on_delete=models.PROTECT, related_name="choices", verbose_name=_("目录变更")
    )
    registration = models.OneToOneField(
        Registration, on_delete=models.PROTECT, related_name="cancellation_choice", verbose_name=_("报名")
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="cancellation_choices")
    choice = models.CharField(_("考生选择"), max_length=8, choices=Choice.choices, default="", blank=True)
    chosen_at = models.DateTimeField(_("选择时间"), null=True, blank=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refund_amount = models.DecimalField(_("退费金额(元)"), max_digits=8, decimal_places=2, null=True, blank=True)
    refunded_on = models.DateField(_("退费日期"), null=True, blank=True)
    refund_reference = models.CharField(_("退费凭证号"), max_length=64, blank=True)
    refund_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refund_recorded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("取消事项考生选择")
        verbose_name_plural = _("取消事项考生选择")
        ordering = ["plan", "id"]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.get_choice_display()}"

    @property
    def refunded(self) -> bool:
        return self.refund_recorded_at is not None

    @property
    def state_label(self) -> str:
        if self.choice == self.Choice.REFUND:
            return _("已退费") if self.refunded else _("待退费")
        return self.get_choice_display()


class RelationshipDeclaration(models.Model):
    """An assessor or supervisor declares a relationship with a person; they are then kept off that person's panel."""

    class Kind(models.TextChoices):
        RELATIVE = "relative", _("近亲属")
        TEACHER = "teacher", _("师生")
        MASTER = "master", _("师徒")
        COLLEAGUE = "colleague", _("同事")
        OTHER = "other", _("其他利害关系")

    declarant = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="declared_relations")
    other = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("关系"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("回避关系申报")
        verbose_name_plural = _("回避关系申报")
        constraints = [models.UniqueConstraint(fields=["declarant", "other", "kind"], name="uniq_relationship")]

    def __str__(self) -> str:
        return f"{self.declarant.name} — {self.other.name}({self.get_kind_display()})"


class PanelMember(models.Model):
    """An assessor on the panel of one component of a plan."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="panel")
    kind = models.CharField(_("科目"), max_length=8, choices=COMPONENT_KINDS)
    appointment = models.ForeignKey("accreditation.Appointment", on_delete=models.PROTECT, related_name="panels")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("考评组成员")
        verbose_name_plural = _("考评组成员")
        constraints = [models.UniqueConstraint(fields=["plan", "kind", "appointment"], name="uniq_panel_member")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.get_kind_display()} · {self.appointment.person.name}"


class Score(models.Model):
    """One assessor's mark for one candidate in one component. Submitted marks are locked."""

    class Status(models.TextChoices):
        SCORED = "scored", _("已评分")
        ABSENT = "absent", _("缺考")
        VOID = "void", _("违纪")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="scores")
    kind = models.CharField(_("科目"), max_length=8, choices=COMPONENT_KINDS)
    assessor = models.ForeignKey("accreditation.Appointment", on_delete=models.PROTECT, related_name="scores")
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.SCORED)
    value = models.DecimalField(_("分数"), max_digits=5, decimal_places=1, null=True, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            models.UniqueConstraint(fields=["registration", "kind", "assessor"], name="uniq_score"),
            models.CheckConstraint(
                name="score_in_range", condition=Q(value__isnull=True) | Q(value__gte=0, value__lte=100)
            ),
            models.CheckConstraint(
                name="score_value_matches_status",
                condition=Q(status="scored", value__isnull=False) | (~Q(status="scored") & Q(value__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.kind} {self.value}"


class ComponentResult(models.Model):
    """A candidate's result in one component: the combined score, or absent / void (cheating)."""

    class Status(models.TextChoices):
        SCORED = "scored", _("已评分")
        ABSENT = "absent", _("缺考")
        VOID = "void", _("违纪作废")
        CARRIED = "carried", _("前次合格(补考保留)")

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="results")
    kind = models.CharField(_("科目"), max_length=8, choices=COMPONENT_KINDS)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.SCORED)
    score = models.DecimalField(_("成绩"), max_digits=5, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField(_("合格"), default=False)
    rule = models.CharField(_("合成规则"), max_length=32, blank=True)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("科目成绩")
        verbose_name_plural = _("科目成绩")
        constraints = [models.UniqueConstraint(fields=["registration", "kind"], name="uniq_component_result")]

    def __str__(self) -> str:
        return f"{self.registration_id} {self.kind} {self.score}"


class ScoreCorrection(models.Model):
    """A change to a locked result: asked for with a reason by one person, approved by another."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待复核")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    result = models.ForeignKey(ComponentResult, on_delete=models.CASCADE, related_name="corrections")
    old_status = models.CharField(max_length=8)
    old_score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    new_status = models.CharField(max_length=8)
    new_score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    reason = models.TextField(_("更正理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)

    class Meta:
        verbose_name = _("成绩更正")
        verbose_name_plural = _("成绩更正")

    def __str__(self) -> str:
        return f"{self.result_id}: {self.old_score} → {self.new_score}"


class Publication(models.Model):
    """成绩公示: results shown publicly for a number of working days, during which anyone may object."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="publication")
    starts_on = models.DateField(_("公示开始"))
    ends_on = models.DateField(_("公示截止"))
    provisional = models.BooleanField(_("按暂定日历计算"), default=False)
    calendar_note = models.CharField(max_length=128, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("成绩公示")
        verbose_name_plural = _("成绩公示")

    def __str__(self) -> str:
        return f"{self.plan} {self.starts_on}—{self.ends_on}"


class Objection(models.Model):
    """An objection raised during publicity, and the organisation's answer."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="objections")
    registration = models.ForeignKey(
        Registration,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="objections",
        verbose_name=_("涉及考生"),
    )
    text = models.TextField(_("异议内容"))
    contact = models.CharField(_("联系方式"), max_length=64, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    response = models.TextField(_("答复"), blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["raised_at"]

    def __str__(self) -> str:
        return self.text[:40]


class SupervisionReport(models.Model):
    """A supervisor's report on one plan's assessment: a checklist and findings."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="supervision_reports")
    supervisor = models.ForeignKey("accreditation.Appointment", on_delete=models.PROTECT, related_name="reports")
    checklist = models.JSONField(_("检查项"), default=dict)
    findings = models.TextField(_("发现的问题"), blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("督导报告")
        verbose_name_plural = _("督导报告")

    def __str__(self) -> str:
        return f"{self.plan} · {self.supervisor.person.name}"


class IntegrityException(models.Model):
    """A bureau's recorded exception to one 考培分离, qualification or staffing rule on one plan (例外核准).

    It matches exactly one finding: the rule, the component (blank for the supervisor or the plan as a whole), the
    person's appointment and the record that triggered it. Revoking it makes the rule hold again."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="integrity_exceptions")
    rule_code = models.CharField(_("规则"), max_length=32)
    kind = models.CharField(_("科目"), max_length=16, blank=True)
    appointment = models.ForeignKey(
        "accreditation.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record_type = models.CharField(_("依据记录类型"), max_length=32, blank=True)
    record_id = models.PositiveIntegerField(_("依据记录编号"), null=True, blank=True)
    finding = models.TextField(_("核准时的问题说明"))
    reason = models.TextField(_("例外理由"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        verbose_name = _("考培分离与考评组例外核准")
        verbose_name_plural = _("考培分离与考评组例外核准")
        ordering = ["-granted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.rule_code} {self.kind}"

    @property
    def key(self) -> tuple:
        return (self.rule_code, self.kind, self.appointment_id, self.record_type, self.record_id)


class EmploymentProof(models.Model):
    """A document an employer (Y) uploads to show that a person works for it: a labour contract, a dispatch
    agreement (劳务派遣协议) or an internship agreement. With an insurance record at the employer, what lets the
    employer assess that person (谁用人、谁评价)."""

    class Kind(models.TextChoices):
        CONTRACT = "contract", _("劳动合同")
        DISPATCH = "dispatch", _("劳务派遣协议")
        INTERNSHIP = "internship", _("实习协议")

    organisation = models.ForeignKey(
        "accreditation.Organisation", on_delete=models.PROTECT, related_name="employment_proofs"
    )
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="employment_proofs")
    kind = models.CharField(_("材料类型"), max_length=12, choices=Kind.choices)
    document = models.FileField(_("材料"), upload_to="employment/%Y/")
    content_type = models.CharField(max_length=32)
    valid_from = models.DateField(_("起始日期"))
    valid_until = models.DateField(_("截止日期"), null=True, blank=True, help_text=_("空为长期或无固定期限"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("本单位职工证明材料")
        verbose_name_plural = _("本单位职工证明材料")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="employment_proof_dates",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.organisation_id} {self.kind}"

    def covers(self, day) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


from .evidence.models import EvidenceRetentionPolicy, SessionEvidence  # noqa: E402, F401  (exam evidence)
from .examday.models import AdmissionTicket, CheckIn  # noqa: E402, F401  (models of the exam-day sub-package)
from .review.models import ResultReview, ResultReviewPolicy  # noqa: E402, F401  (bureau review of results)
