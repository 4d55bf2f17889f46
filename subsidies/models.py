"""技能提升补贴: policies as data with effective dates, claims, their decisions, objections and payments.

What varies by region and year (amounts per level, shortage uplift, insurance months, excluded groups, claim
window, yearly caps, which date selects the version) is a SubsidyPolicy row, never code. The rules that read
these rows live in subsidies/eligibility.py and nowhere else.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.identity import mask_account


class SubsidyPolicy(models.Model):
    """One version of a region's subsidy policy. The most specific region in force wins (长春 over 吉林省)."""

    class VersionBasis(models.TextChoices):
        CLAIMED_ON = "claimed_on", _("按申请日期确定适用版本")
        ISSUED_ON = "issued_on", _("按发证日期确定适用版本")

    code = models.CharField(_("政策代码"), max_length=40, unique=True, help_text=_("如 cc-2025,数据文件以此对应"))
    name = models.CharField(_("政策名称"), max_length=128)
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("适用地区")
    )
    effective_from = models.DateField(_("施行日期"))
    effective_to = models.DateField(_("废止日期"), null=True, blank=True, help_text=_("空为长期有效"))
    version_basis = models.CharField(
        _("版本确定方式"),
        max_length=16,
        choices=VersionBasis.choices,
        default=VersionBasis.CLAIMED_ON,
        help_text=_("申请日施行的版本若选“按发证日期”,则改用发证当日施行的版本(新政策的过渡条款)"),
    )
    claim_window_months = models.PositiveSmallIntegerField(_("申领期限(发证后月数)"), default=12)
    insurance_months_required = models.PositiveSmallIntegerField(_("失业保险缴费月数要求"), default=12)
    accepts_unemployment_benefit = models.BooleanField(_("领取失业保险金人员可申领"), default=True)
    excluded_groups = models.JSONField(
        _("不得申领的人员类别"),
        default=list,
        blank=True,
        help_text=_("人员类别代码列表,如 student、public_institution"),
    )
    yearly_cap = models.PositiveSmallIntegerField(_("每人每年可享受次数"), default=3)
    yearly_cap_shortage_extra = models.PositiveSmallIntegerField(
        _("急需紧缺职业可再享受次数"), default=0, help_text=_("如2025年:每年1次,急需紧缺职业可再享受2次")
    )
    shortage_uplift_percent = models.PositiveSmallIntegerField(_("急需紧缺职业上浮比例(%)"), default=0)
    amount_ceiling = models.DecimalField(_("单次补贴上限(元)"), max_digits=10, decimal_places=2, null=True, blank=True)
    excludes_training_subsidy = models.BooleanField(_("不与同职业的职业培训补贴重复享受"), default=True)
    review_working_days = models.PositiveSmallIntegerField(_("核定、复核时限(工作日)"), default=5)
    publicity_working_days = models.PositiveSmallIntegerField(_("公示期(工作日)"), default=5)
    objection_working_days = models.PositiveSmallIntegerField(_("异议处理时限(工作日)"), default=5)
    basis = models.CharField(_("政策依据"), max_length=255, blank=True, help_text=_("文件名称"))
    document_number = models.CharField(
        _("文号"), max_length=64, blank=True, help_text=_("如 吉人社联字〔2025〕X号;空表示尚未登记文件依据")
    )
    document_date = models.DateField(_("印发日期"), null=True, blank=True)
    is_demonstration = models.BooleanField(
        _("演示政策"), default=False, help_text=_("仅供演示的延续版本,不是正式文件;凡显示处均标注")
    )
    lapse_warning_days = models.PositiveSmallIntegerField(
        _("到期提醒提前天数"), default=60, help_text=_("到期前多少天起提示本地区下一期间尚无政策")
    )
    lapse_notified_on = models.DateField(_("已发出到期提醒"), null=True, blank=True, editable=False)
    # The limits of 2025 and later, each switched on by the version whose document says so.
    no_lower_if_holding_higher = models.BooleanField(
        _("持有同一职业高等级证书即不再享受低等级补贴"),
        default=False,
        help_text=_("2025年口径:已持有同一职业(工种)高等级证书或享受相应补贴的,不再享受低等级证书补贴"),
    )
    counts_military_service = models.BooleanField(
        _("服役时间视同失业保险缴费"), default=False, help_text=_("退役军人的服役时间计入参保时间")
    )
    checks_other_regions = models.BooleanField(
        _("转入人员须核实未在原参保地享受"),
        default=True,
        help_text=_("从外地转入的职工申报原参保地并声明未享受,经办机构按导入的异地记录核实"),
    )

    class JobFit(models.TextChoices):
        OFF = "", _("不核查证岗相适")
        EMPLOYER = "employer", _("按用人单位出具的岗位说明")
        INSURANCE = "insurance", _("按参保登记的岗位")
        EITHER = "either", _("用人单位岗位说明或参保登记岗位")

    class JobFitMatch(models.TextChoices):
        OCCUPATION = "occupation", _("同一职业(大典细类)")
        MINOR_GROUP = "minor_group", _("同一小类(大典前三段)")

    job_fit_source = models.CharField(
        _("证岗相适核查依据"), max_length=12, choices=JobFit.choices, default=JobFit.OFF, blank=True
    )
    job_fit_match = models.CharField(
        _("证岗相适判定口径"), max_length=12, choices=JobFitMatch.choices, default=JobFitMatch.OCCUPATION
    )
    ss_card_default_account = models.BooleanField(
        _("社保卡金融账户为默认收款账户"),
        default=False,
        help_text=_("经社保服务渠道申请、未另填银行卡的,补贴发放至社会保障卡金融账户"),
    )
    notes = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("补贴政策版本")
        verbose_name_plural = _("补贴政策版本")
        ordering = ["region__code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "effective_from"], name="uniq_subsidy_policy_version"),
            models.CheckConstraint(
                name="subsidy_policy_dates_in_order",
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.effective_from:%Y-%m-%d}起)"

    @property
    def has_basis(self) -> bool:
        """A version cites its document: number and date. One without is shown as such wherever it appears."""
        return bool(self.document_number and self.document_date) and not self.is_demonstration

    @property
    def basis_label(self) -> str:
        if self.is_demonstration:
            return str(_("演示政策,非正式文件"))
        if not self.has_basis:
            return str(_("未登记文件依据"))
        return f"{self.basis}({self.document_number},{self.document_date:%Y-%m-%d}印发)"

    def in_force_on(self, day: datetime.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class PolicyAmount(models.Model):
    """The amount a policy version pays for one level (levels are data: 学徒工 and 特级技师 fit too)."""

    policy = models.ForeignKey(SubsidyPolicy, on_delete=models.CASCADE, related_name="amounts")
    level = models.ForeignKey("occupations.Level", on_delete=models.PROTECT, verbose_name=_("等级"))
    amount = models.DecimalField(_("补贴标准(元)"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("补贴标准")
        verbose_name_plural = _("补贴标准")
        ordering = ["policy", "-level__rank"]
        constraints = [models.UniqueConstraint(fields=["policy", "level"], name="uniq_policy_amount_level")]

    def __str__(self) -> str:
        return f"{self.level} {self.amount}"


class ShortageOccupation(models.Model):
    """An entry of a region's yearly 急需紧缺职业(工种)目录."""

    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("地区"))
    year = models.PositiveSmallIntegerField(_("目录年度"))
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    source = models.CharField(_("目录名称"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("急需紧缺职业")
        verbose_name_plural = _("急需紧缺职业目录")
        ordering = ["region__code", "-year", "occupation__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "occupation"], name="uniq_shortage_occupation")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.occupation.name}"


class InsuranceRecord(models.Model):
    """Unemployment-insurance contributions as the social insurance agency reports them, matched by ID number."""

    person = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="insurance_records")
    months = models.PositiveSmallIntegerField(_("累计缴费月数"))
    as_of = models.DateField(_("截至日期"))
    receives_unemployment_benefit = models.BooleanField(_("领取失业保险金"), default=False)
    job_occupation = models.ForeignKey(
        "occupations.Occupation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("参保登记岗位(职业)"),
    )
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("参保地")
    )
    source = models.CharField(_("数据来源"), max_length=128)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("失业保险参保记录")
        verbose_name_plural = _("失业保险参保记录")
        ordering = ["-as_of"]
        constraints = [models.UniqueConstraint(fields=["person", "as_of"], name="uniq_insurance_record_as_of")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.months}个月(截至{self.as_of})"


class TrainingSubsidyRecord(models.Model):
    """A 职业培训补贴 the person already received: the same skill is not subsidised twice."""

    person = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="training_subsidies")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    level = models.ForeignKey(
        "occupations.Level",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("等级"),
        help_text=_("空表示不分等级"),
    )
    granted_on = models.DateField(_("享受日期"))
    amount = models.DecimalField(_("金额(元)"), max_digits=10, decimal_places=2, null=True, blank=True)
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("发放地区")
    )
    source = models.CharField(_("数据来源"), max_length=128)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("职业培训补贴记录")
        verbose_name_plural = _("职业培训补贴记录")
        ordering = ["-granted_on"]
        constraints = [
            models.UniqueConstraint(fields=["person", "occupation", "granted_on"], name="uniq_training_subsidy_record")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.occupation_id} {self.granted_on}"


class MilitaryServiceRecord(models.Model):
    """Military service (服役时间) from the veterans' affairs extract: counted as insured time where a policy says so."""

    person = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="military_service")
    months = models.PositiveSmallIntegerField(_("服役月数"))
    discharged_on = models.DateField(_("退役日期"))
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("导入地区")
    )
    source = models.CharField(_("数据来源"), max_length=128)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("服役记录")
        verbose_name_plural = _("服役记录")
        ordering = ["-discharged_on"]
        constraints = [models.UniqueConstraint(fields=["person", "discharged_on"], name="uniq_military_service_record")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.months}个月"


class OtherRegionExtract(models.Model):
    """One import of another region's subsidy payments: which region's records, as of when. A transfer is verified
    against the extracts of the region the worker came from; without one, the declaration stays unverified."""

    source_region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("记录所属地区")
    )
    as_of = models.DateField(_("记录截至日期"))
    rows = models.PositiveIntegerField(_("行数"), default=0)
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("导入地区")
    )
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("异地补贴记录导入")
        verbose_name_plural = _("异地补贴记录导入")
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"{self.source_region_id} {self.as_of}"


class OtherRegionSubsidyRecord(models.Model):
    """A 技能提升补贴 another region paid (from its extract): the same skill is not subsidised twice."""

    extract = models.ForeignKey(OtherRegionExtract, on_delete=models.CASCADE, related_name="records")
    person = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="other_region_subsidies")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    level = models.ForeignKey("occupations.Level", on_delete=models.PROTECT, verbose_name=_("等级"))
    paid_on = models.DateField(_("发放日期"))
    amount = models.DecimalField(_("金额(元)"), max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("异地技能提升补贴记录")
        verbose_name_plural = _("异地技能提升补贴记录")
        ordering = ["-paid_on"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.occupation_id} {self.level_id}"


class DeclaredCertificate(models.Model):
    """A certificate held outside the platform (another province's system, a paper 职业资格证书), declared by the
    worker or found by the bureau; once verified (e.g. against the national query) it counts as held."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待核实")
        VERIFIED = "verified", _("已核实")
        REJECTED = "rejected", _("核实不符")

    person = models.ForeignKey("accounts.Person", on_delete=models.CASCADE, related_name="declared_certificates")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    level = models.ForeignKey("occupations.Level", on_delete=models.PROTECT, verbose_name=_("等级"))
    number = models.CharField(_("证书编号"), max_length=32)
    issuer = models.CharField(_("发证机构"), max_length=128, blank=True)
    issued_on = models.DateField(_("发证日期"))
    status = models.CharField(_("核实状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # The bureau that verifies it: where the person declared it (their 参保地), or the recording officer's region.
    # Empty only for declarations recorded before the region was kept; the platform operator sees those.
    region = models.ForeignKey(
        "occupations.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("核实地区"),
    )
    verification = models.CharField(_("核实方式与结果"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("申报的平台外证书")
        verbose_name_plural = _("申报的平台外证书")
        ordering = ["-issued_on"]
        constraints = [models.UniqueConstraint(fields=["person", "number"], name="uniq_declared_certificate")]

    def __str__(self) -> str:
        return f"{self.number} {self.get_status_display()}"


class Claim(models.Model):
    """A claim for the subsidy a certificate earns, handled by the bureau of the claim's region (参保地).

    The region is the certificate's region unless the worker chooses another region of the same province
    (省内参保地). Its bureau decides, and its most specific policy in force applies.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待核定")
        REVIEWED = "reviewed", _("待复核")
        PUBLICITY = "publicity", _("公示中")
        APPROVED = "approved", _("已审批待支付")
        IN_PAYMENT = "in_payment", _("支付中")
        PAID = "paid", _("已支付")
        REJECTED = "rejected", _("不予补贴")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Category(models.TextChoices):
        EMPLOYEE = "employee", _("企业职工(参加失业保险)")
        UNEMPLOYED = "unemployed", _("领取失业保险金人员")
        FLEXIBLE = "flexible", _("灵活就业人员")
        STUDENT = "student", _("全日制在校学生")
        PUBLIC_INSTITUTION = "public_institution", _("机关事业单位工作人员")

    class AccountKind(models.TextChoices):
        BANK_CARD = "bank_card", _("银行卡")
        SOCIAL_SECURITY_CARD = "social_security_card", _("社会保障卡(金融账户)")

    # Claims that no longer hold their certificate: a new claim for it may be made.
    CLOSED = (Status.REJECTED, Status.WITHDRAWN)
    # Claims whose subsidy was granted: they count against once-only, lower-level and yearly limits.
    GRANTED = (Status.APPROVED, Status.IN_PAYMENT, Status.PAID)
    IN_REVIEW = (Status.SUBMITTED, Status.REVIEWED, Status.PUBLICITY)
    # Waiting on an officer within a working-day deadline (publicity runs on its own).
    AWAITING_OFFICER = (Status.SUBMITTED, Status.REVIEWED)

    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, related_name="subsidy_claims", verbose_name=_("证书")
    )
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="subsidy_claims")
    occupation = models.ForeignKey("occupations.Occupation", on_delete=models.PROTECT, verbose_name=_("职业"))
    level = models.ForeignKey("occupations.Level", on_delete=models.PROTECT, verbose_name=_("等级"))
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("受理地区(参保地)")
    )
    category = models.CharField(_("人员类别"), max_length=20, choices=Category.choices, default=Category.EMPLOYEE)
    insurance_months_declared = models.PositiveSmallIntegerField(_("申报失业保险缴费月数"), null=True, blank=True)
    military_months_declared = models.PositiveSmallIntegerField(_("申报服役月数"), null=True, blank=True)
    transferred_from = models.ForeignKey(
        "occupations.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("转入前参保地"),
    )
    declares_not_paid_elsewhere = models.BooleanField(_("声明未在原参保地享受同一补贴"), default=False)
    job_occupation = models.ForeignKey(
        "occupations.Occupation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("用人单位说明的岗位(职业)"),
    )
    account_kind = models.CharField(_("账户类型"), max_length=24, choices=AccountKind.choices)
    account_number = models.CharField(_("账号"), max_length=32)
    bank_name = models.CharField(_("开户银行"), max_length=64, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_by_organisation = models.ForeignKey(
        "accreditation.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subsidy_claims",
        verbose_name=_("代为申请的用人单位"),
    )
    intake_channel = models.ForeignKey(
        "subsidies.IntakeChannel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("申请渠道"),
    )
    intake_request_id = models.CharField(_("渠道请求编号"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    claimed_on = models.DateField(_("申请日期"))
    # The latest decision: the policy version it used, the amount and the whole explanation.
    policy = models.ForeignKey(
        SubsidyPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("适用政策"),
    )
    amount = models.DecimalField(_("补贴金额(元)"), max_digits=10, decimal_places=2, null=True, blank=True)
    is_shortage = models.BooleanField(_("急需紧缺职业"), default=False)
    assessment = models.JSONField(_("资格审核结果"), default=dict, blank=True)
    due_on = models.DateField(_("办理时限"), null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField(default=False)
    due_note = models.CharField(max_length=128, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("核定人"),
    )
    reviewed_at = models.DateTimeField(_("核定时间"), null=True, blank=True)
    second_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("复核人"),
    )
    second_reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    publicity_starts_on = models.DateField(_("公示开始"), null=True, blank=True)
    publicity_ends_on = models.DateField(_("公示截止"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_on = models.DateField(_("办结日期"), null=True, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    payment_failure_reason = models.CharField(_("最近一次支付失败原因"), max_length=255, blank=True)
    paid_on = models.DateField(_("支付日期"), null=True, blank=True)
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("补贴申请")
        verbose_name_plural = _("补贴申请")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["person", "status"]),
        ]
        constraints = [
            # No double payment: one live claim per certificate, and per person × occupation × level, whatever
            # the services believed when they checked.
            models.UniqueConstraint(
                fields=["certificate"],
                condition=~Q(status__in=["rejected", "withdrawn"]),
                name="one_live_claim_per_certificate",
            ),
            models.UniqueConstraint(
                fields=["person", "occupation", "level"],
                condition=~Q(status__in=["rejected", "withdrawn"]),
                name="one_live_claim_per_occupation_level",
            ),
            models.CheckConstraint(
                name="second_review_by_another_officer",
                condition=Q(second_reviewed_by__isnull=True) | ~Q(second_reviewed_by=F("reviewed_by")),
            ),
            models.CheckConstraint(
                name="claim_amount_not_negative", condition=Q(amount__isnull=True) | Q(amount__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.certificate_id} {self.get_status_display()}"

    @property
    def masked_account(self) -> str:
        return mask_account(self.account_number)

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED

    def publicity_over(self, on: datetime.date) -> bool:
        """Publicity has run its whole period by `on` (the last day of publicity still counts as running)."""
        return self.publicity_ends_on is not None and on > self.publicity_ends_on


OUTCOME_LABELS = {
    "submitted": _("已提交"),
    "pass": _("通过"),
    "return": _("退回"),
    "reject": _("不予补贴"),
    "approve": _("通过"),
    "withdrawn": _("已撤回"),
    "paid": _("已支付"),
    "failed": _("支付失败"),
}


class ClaimDecision(models.Model):
    """One step an officer (or the claimant) took, with the policy version and explanation it rested on."""

    class Step(models.TextChoices):
        SUBMIT = "submit", _("提交申请")
        REVIEW = "review", _("核定")
        SECOND_REVIEW = "second_review", _("复核")
        APPROVE = "approve", _("审批通过")
        REJECT = "reject", _("不予补贴")
        WITHDRAW = "withdraw", _("撤回")
        PAID = "paid", _("支付成功")
        PAYMENT_FAILED = "payment_failed", _("支付失败")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="decisions")
    step = models.CharField(_("环节"), max_length=16, choices=Step.choices)
    outcome = models.CharField(_("结论"), max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=64)
    reason = models.TextField(_("意见"), blank=True)
    policy = models.ForeignKey(SubsidyPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    assessment = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.step} {self.outcome}"

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))


class Objection(models.Model):
    """An objection raised while a claim is in publicity; answered by the bureau within working days."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="objections")
    text = models.TextField(_("异议内容"))
    contact = models.CharField(_("联系方式"), max_length=64, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_on = models.DateField(_("提出日期"))
    due_on = models.DateField(_("处理时限"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(_("处理意见"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("补贴公示异议")
        verbose_name_plural = _("补贴公示异议")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:40]


class PaymentBatch(models.Model):
    """A region's monthly payment batch: a file for the bank, then each line marked paid or failed."""

    class Status(models.TextChoices):
        OPEN = "open", _("支付中")
        CLOSED = "closed", _("已办结")

    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("地区"))
    month = models.CharField(_("批次月份"), max_length=7, help_text=_("如 2026-11"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    exported_at = models.DateTimeField(_("导出银行文件时间"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("补贴支付批次")
        verbose_name_plural = _("补贴支付批次")
        ordering = ["-month", "region__code"]
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="uniq_payment_batch_month")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.month}"


class PaymentLine(models.Model):
    """One payment in a batch. The account is copied at batch time: the bank pays what the file says."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待银行回单")
        PAID = "paid", _("已支付")
        FAILED = "failed", _("支付失败")

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="lines")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="payment_lines")
    amount = models.DecimalField(_("金额(元)"), max_digits=10, decimal_places=2)
    holder_name = models.CharField(_("户名"), max_length=64)
    id_number = models.CharField(_("证件号码"), max_length=32)
    account_kind = models.CharField(_("账户类型"), max_length=24, choices=Claim.AccountKind.choices)
    account_number = models.CharField(_("账号"), max_length=32)
    bank_name = models.CharField(_("开户银行"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=255, blank=True)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("支付明细")
        verbose_name_plural = _("支付明细")
        ordering = ["batch", "id"]
        constraints = [
            # A claim is in at most one unsettled or paid line: it can never be paid twice.
            models.UniqueConstraint(
                fields=["claim"], condition=Q(status__in=["pending", "paid"]), name="one_live_payment_per_claim"
            ),
            models.UniqueConstraint(
                fields=["bank_reference"], condition=~Q(bank_reference=""), name="uniq_payment_bank_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.claim_id} {self.amount}"

    @property
    def masked_account(self) -> str:
        return mask_account(self.account_number)


class FundBudget(models.Model):
    """A region's yearly budget for skills subsidies from the 失业保险基金: approvals stop when it is used up,
    unless a supplement is recorded. The most specific region's budget applies to a claim."""

    region = models.ForeignKey("occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("地区"))
    year = models.PositiveSmallIntegerField(_("预算年度"))
    fund = models.CharField(_("资金来源"), max_length=64, default=_("失业保险基金"))
    amount = models.DecimalField(_("年度预算(元)"), max_digits=14, decimal_places=2)
    basis = models.CharField(_("预算依据"), max_length=255, help_text=_("如 预算批复文件的文号"))
    warn_percent = models.PositiveSmallIntegerField(_("预警比例(%)"), default=80)
    warned_at = models.DateTimeField(_("已发出预警"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("补贴资金年度预算")
        verbose_name_plural = _("补贴资金年度预算")
        ordering = ["-year", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="uniq_fund_budget_year"),
            models.CheckConstraint(name="fund_budget_not_negative", condition=Q(amount__gte=0)),
            models.CheckConstraint(
                name="fund_budget_warn_percent", condition=Q(warn_percent__gte=1, warn_percent__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year} {self.amount}"


class BudgetSupplement(models.Model):
    """追加预算: raises a year's budget, with the document that allowed it."""

    budget = models.ForeignKey(FundBudget, on_delete=models.PROTECT, related_name="supplements")
    amount = models.DecimalField(_("追加金额(元)"), max_digits=14, decimal_places=2)
    basis = models.CharField(_("追加依据"), max_length=255)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("追加预算")
        verbose_name_plural = _("追加预算")
        ordering = ["recorded_at"]
        constraints = [models.CheckConstraint(name="budget_supplement_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"+{self.amount}"


class IntakeChannel(models.Model):
    """A registered social-security service channel (12333, 掌上12333, 电子社保卡) that files claims through the
    signed intake API. It signs each request with its key: HMAC-SHA256 with a shared secret, or Ed25519 with a
    private key whose public half is registered here. The channel has verified who the person is (real-name)."""

    class Algorithm(models.TextChoices):
        HMAC = "hmac-sha256", "HMAC-SHA256"
        ED25519 = "ed25519", "Ed25519"

    code = models.SlugField(_("渠道代码"), max_length=32, unique=True)
    name = models.CharField(_("渠道名称"), max_length=64)
    region = models.ForeignKey(
        "occupations.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("服务地区")
    )
    key_id = models.CharField(_("密钥编号"), max_length=64, unique=True)
    algorithm = models.CharField(_("签名算法"), max_length=16, choices=Algorithm.choices)
    secret = models.CharField(
        _("HMAC共享密钥(base64)"), max_length=128, blank=True, help_text=_("仅HMAC;Ed25519渠道留空")
    )
    public_key = models.TextField(_("Ed25519公钥(PEM)"), blank=True)
    max_skew_seconds = models.PositiveSmallIntegerField(_("允许的时间偏差(秒)"), default=300)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("社保服务渠道")
        verbose_name_plural = _("社保服务渠道")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IntakeNonce(models.Model):
    """A nonce a channel used: a request carrying it again is a replay."""

    channel = models.ForeignKey(IntakeChannel, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "nonce"], name="uniq_intake_nonce")]

    def __str__(self) -> str:
        return self.nonce


class IntakeRequest(models.Model):
    """One request id of a channel and the answer it got: the same request id with the same body gets the same
    answer again (idempotent); with another body it is refused."""

    channel = models.ForeignKey(IntakeChannel, on_delete=models.PROTECT, related_name="requests")
    request_id = models.CharField(max_length=64)
    body_sha256 = models.CharField(max_length=64)
    claim = models.ForeignKey("subsidies.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("渠道请求")
        verbose_name_plural = _("渠道请求")
        constraints = [models.UniqueConstraint(fields=["channel", "request_id"], name="uniq_intake_request_id")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.request_id}"


class ChannelNotice(models.Model):
    """A decision on a channel's claim, sent back on the same channel: the channel collects them (signed) and
    shows them to the person where they applied."""

    channel = models.ForeignKey(IntakeChannel, on_delete=models.PROTECT, related_name="notices")
    claim = models.ForeignKey("subsidies.Claim", on_delete=models.PROTECT, related_name="channel_notices")
    request_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("渠道回传")
        verbose_name_plural = _("渠道回传")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.status}"
