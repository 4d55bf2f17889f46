"""Reference data: regions, levels, occupations (大典 2022), national standards and the 目录清单.

Everything that varies by standard, province or year is a row here with effective dates, editable in the
admin, and loaded from occupations/data/ by `manage.py load_reference`.
"""

import datetime
from collections.abc import Iterable
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An administrative division (GB/T 2260). Scope checks use the code prefix of the level."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("地市级")
        COUNTY = "county", _("县区级")

    code = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("级别"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    signature_algorithm = models.CharField(
        _("证书签名算法"),
        max_length=8,
        blank=True,
        choices=[("EdDSA", _("Ed25519(EdDSA)")), ("SM2", _("SM2/SM3(国密)"))],
        help_text=_(
            "本地区签发证书的二维码令牌用哪种算法签名;空为沿用上级地区,最终默认 Ed25519。电子凭证始终用 Ed25519"
        ),
    )
    initials = models.CharField(_("拼音首字母"), max_length=64, blank=True, db_index=True)
    edition = models.CharField(_("代码版本"), max_length=16, blank=True, help_text=_("如:2022-10(统计用区划代码)"))
    source = models.CharField(_("来源"), max_length=128, blank=True)
    active = models.BooleanField(_("现行"), default=True, help_text=_("新版代码中已撤销的区划保留,标为非现行"))

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.full_name

    # How many leading digits of a code a province or a city shares with everything below it (GB/T 2260).
    PREFIX_LENGTH = {Kind.PROVINCE: 2, Kind.CITY: 4}

    @property
    def prefix(self) -> str:
        """The code prefix shared by this region and everything below it."""
        return self.code[: self.PREFIX_LENGTH.get(self.kind, len(self.code))]

    @property
    def province_code(self) -> str:
        return self.code[:2]

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def contains(self, other: "Region") -> bool:
        return other.code.startswith(self.prefix)

    @staticmethod
    def code_within_q(code_field: str, prefixes: Iterable[str]) -> Q:
        """Q matching rows whose region code (a text field such as a certificate's `region_code`) lies inside any
        of the prefixes; no prefixes match nothing."""
        q = Q(pk__in=[])
        for p in prefixes:
            q |= Q(**{f"{code_field}__startswith": p})
        return q

    @staticmethod
    def within_q(field: str, prefixes: Iterable[str]) -> Q:
        """Q matching objects whose `field` (a Region FK path) lies inside any of the prefixes."""
        return Region.code_within_q(f"{field}__code", prefixes)

    @classmethod
    def inside_q(cls, field: str, region_code: str) -> Q:
        """Q matching objects whose `field` (a Region FK path) lies in the region with this code or below it;
        nothing when there is no such region (a filter typed into a public list)."""
        region = cls.objects.filter(code=(region_code or "").strip()).first()
        return cls.within_q(field, [region.prefix]) if region else Q(pk__in=[])


class LevelLabels(NamedTuple):
    """What a level is called, from its three names alone: for Level, and for code that holds only a row's values
    (a scan reads them joined to the certificate, certificates/verification.py)."""

    name: str
    title: str
    name_en: str

    @property
    def label(self) -> str:
        """三级/高级工: the level's official Chinese label, whatever the page's language (certificates, credentials
        and national records carry it)."""
        return f"{self.name}/{self.title}" if self.title else self.name

    @property
    def label_for_reader(self) -> str:
        """The label in the page's language: on an English page (a foreign employer verifying a certificate) the
        English name when the reference data has one, else the Chinese label."""
        if self.name_en and (translation.get_language() or "").startswith("en"):
            return self.name_en
        return self.label


class Level(models.Model):
    """A skill level. Data, so that 学徒工 and 特级/首席技师 (2022 reform) fit without code changes.

    `number_format` is how certificate numbers of this level are written, a template over four fields:
    {prefix} the organisation's 13 characters (kind letter + national code + province + serial),
    {year} two digits, {digit} this level's `number_digit`, {serial:06d} the serial. The national rule
    (人社鉴发〔2019〕2号) is "{prefix}{year}{digit}{serial:06d}": 22 characters, the level digit at position 16.
    `organisation_kinds` lists which kinds of evaluation organisation (Y employer, S social organisation) may
    have the level in a filed scope: the eight-level system's new levels are employers' own (人社部发〔2022〕14号).
    """

    NATIONAL_NUMBER_FORMAT = "{prefix}{year}{digit}{serial:06d}"

    code = models.CharField(_("代码"), max_length=2, unique=True)
    rank = models.PositiveSmallIntegerField(_("高低次序"), unique=True, help_text=_("数值越大等级越高"))
    name = models.CharField(_("等级"), max_length=16)
    title = models.CharField(_("等级名称"), max_length=16, blank=True)
    name_en = models.CharField(
        _("英文名称"), max_length=48, blank=True, help_text=_("英文页面上显示;留空则显示中文名称")
    )
    number_digit = models.CharField(
        _("证书编号等级位"), max_length=1, unique=True, help_text=_("一位数字,各等级不得相同,证书编号凭此识别等级")
    )
    number_format = models.CharField(
        _("证书编号格式"),
        max_length=64,
        default=NATIONAL_NUMBER_FORMAT,
        help_text=_("字段:{prefix}机构13位、{year}两位年份、{digit}等级位、{serial:06d}序号;国家规则为默认值"),
    )
    organisation_kinds = models.CharField(
        _("可备案的机构类型"), max_length=2, default="YS", help_text=_("Y用人单位,S社会培训评价组织;可填YS、Y或S")
    )
    is_standard = models.BooleanField(_("国家职业标准五级之一"), default=True)

    class Meta:
        verbose_name = _("技能等级")
        verbose_name_plural = _("技能等级")
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return LevelLabels(self.name, self.title, self.name_en).label

    @property
    def label_for_reader(self) -> str:
        return LevelLabels(self.name, self.title, self.name_en).label_for_reader

    def allows_organisation_kind(self, kind: str) -> bool:
        return bool(kind) and kind in self.organisation_kinds

    def clean(self) -> None:
        from .levels import number_format_problems

        errors = {}
        if not (len(self.number_digit or "") == 1 and self.number_digit.isdigit()):
            errors["number_digit"] = _("证书编号等级位应为一位数字")
        problems = number_format_problems(self.number_format)
        if problems:
            errors["number_format"] = problems
        kinds = self.organisation_kinds or ""
        if not kinds or set(kinds) - {"Y", "S"}:
            errors["organisation_kinds"] = _("机构类型只能填Y、S或YS")
        if errors:
            raise ValidationError(errors)


class Qualification(models.Model):
    """An entry of the 职业资格目录清单, or a qualification that was cancelled and must not return."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("准入类")
        EVALUATION = "evaluation", _("水平评价类")

    class Category(models.TextChoices):
        PROFESSIONAL = "professional", _("专业技术人员职业资格")
        SKILL = "skill", _("技能人员职业资格")

    class Status(models.TextChoices):
        LISTED = "listed", _("在目录内")
        CANCELLED = "cancelled", _("已取消")
        REMOVED = "removed", _("已移出目录")

    # No longer recognised (from `cancelled_on`): may not be filed, planned, required, or come back in disguise.
    OUT = (Status.CANCELLED, Status.REMOVED)

    name = models.CharField(_("职业资格名称"), max_length=128)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices, default=Category.SKILL)
    kind = models.CharField(_("性质"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.LISTED)
    authority = models.CharField(_("实施部门"), max_length=128, blank=True)
    basis = models.CharField(_("设定依据"), max_length=255, blank=True)
    scope = models.CharField(
        _("适用范围"), max_length=6, default="", blank=True, help_text=_("空为全国;省级目录填省级代码前两位")
    )
    effective_from = models.DateField(_("生效日期"), default=datetime.date(2021, 11, 23))
    cancelled_on = models.DateField(_("取消日期"), null=True, blank=True)
    cancellation_basis = models.CharField(_("取消依据"), max_length=255, blank=True)
    evaluation_from = models.DateField(
        _("转为水平评价类日期"),
        null=True,
        blank=True,
        help_text=_("由准入类调整为水平评价类的,自该日起按水平评价类管理"),
    )
    aliases = models.TextField(_("别称"), blank=True, help_text=_("每行一个;排查变相恢复时与名称一并匹配,如旧称、简称"))
    notes = models.TextField(_("备注"), blank=True)
    source = models.CharField(_("来源"), max_length=255, blank=True, help_text=_("本条信息出自何处"))
    category_confirmed = models.BooleanField(
        _("类别、性质已核实"), default=False, help_text=_("已与《国家职业资格目录(2021年版)》原文核对")
    )
    authority_confirmed = models.BooleanField(
        _("实施部门已核实"), default=False, help_text=_("已与《国家职业资格目录(2021年版)》原文核对")
    )

    class Meta:
        verbose_name = _("目录清单条目")
        verbose_name_plural = _("职业资格目录清单")
        ordering = ["status", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "scope"], name="uniq_qualification_name_scope")]

    def __str__(self) -> str:
        return f"{self.name}({self.get_kind_display()}·{self.get_status_display()})"

    def is_cancelled_on(self, day: datetime.date) -> bool:
        """Cancelled or moved out of the catalogue on `day` (a change recorded for a later day is not yet in force)."""
        return self.status in self.OUT and (self.cancelled_on is None or self.cancelled_on <= day)

    def kind_on(self, day: datetime.date) -> str:
        """准入类 until the day it became 水平评价类, if it did."""
        if self.kind == self.Kind.EVALUATION and self.evaluation_from and day < self.evaluation_from:
            return self.Kind.ACCESS
        return self.kind

    @property
    def unconfirmed(self) -> list[str]:
        """What the page must say it has not checked against the 2021 catalogue text."""
        return [
            label
            for label, ok in ((_("类别与性质"), self.category_confirmed), (_("实施部门"), self.authority_confirmed))
            if not ok
        ]

    @property
    def search_terms(self) -> list[str]:
        """The name and its aliases: what a disguised comeback would still call it."""
        terms = [self.name, *(line.strip() for line in self.aliases.splitlines())]
        return list(dict.fromkeys(t for t in terms if len(t) >= 2))


class CatalogueChange(models.Model):
    """A dated change to a catalogue entry, recorded by the operator, previewed for its impact, then confirmed.

    Confirming writes the entry's dated fields (cancelled_on, evaluation_from), which the rules read through
    occupations.catalogue; the change keeps the basis, who decided, and what it touched on the day.
    """

    class Kind(models.TextChoices):
        CANCEL = "cancel", _("取消")
        REMOVE = "remove", _("移出目录")
        TO_EVALUATION = "to_evaluation", _("由准入类调整为水平评价类")

    class Status(models.TextChoices):
        DRAFT = "draft", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DISCARDED = "discarded", _("已放弃")

    # Changes after which the qualification is no longer recognised: candidates of open plans must choose.
    ENDING = (Kind.CANCEL, Kind.REMOVE)

    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="changes", verbose_name=_("目录条目")
    )
    kind = models.CharField(_("变更类型"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    effective_on = models.DateField(_("生效日期"))
    basis = models.CharField(_("文件依据"), max_length=255)
    reason = models.TextField(_("说明"), blank=True)
    impact = models.JSONField(_("确认时的影响范围"), default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("录入人")
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("确认人")
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("目录清单变更")
        verbose_name_plural = _("目录清单变更")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.qualification.name} {self.get_kind_display()} {self.effective_on}"

    @property
    def ends_recognition(self) -> bool:
        return self.kind in self.ENDING


class ClassificationEdition(models.Model):
    """An edition of the 中华人民共和国职业分类大典 whose codes a certificate, filing or standard may carry."""

    code = models.CharField(_("版本"), max_length=8, unique=True, help_text=_("如:2022、2015、1999"))
    title = models.CharField(_("名称"), max_length=64)
    published_on = models.DateField(_("颁布日期"), null=True, blank=True)
    is_current = models.BooleanField(_("现行版本"), default=False)
    notes = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("职业分类大典版本")
        verbose_name_plural = _("职业分类大典版本")
        ordering = ["-code"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def current_code(cls) -> str:
        return cls.objects.filter(is_current=True).values_list("code", flat=True).first() or CURRENT_EDITION


# The edition the platform's occupation codes belong to when nothing else is said (a fresh database).
CURRENT_EDITION = "2022"


class OccupationCategory(models.Model):
    """A 大类, 中类 or 小类 of the 大典: the tree the occupations (细类) hang from."""

    class Kind(models.TextChoices):
        MAJOR = "major", _("大类")
        MIDDLE = "middle", _("中类")
        MINOR = "minor", _("小类")

    code = models.CharField(_("分类编码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("层级"), max_length=8, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级")
    )
    edition = models.CharField(_("大典版本"), max_length=8, default=CURRENT_EDITION)
    source = models.CharField(_("来源"), max_length=64, blank=True)
    active = models.BooleanField(_("现行"), default=True)

    class Meta:
        verbose_name = _("职业分类(大类、中类、小类)")
        verbose_name_plural = _("职业分类(大类、中类、小类)")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Occupation(models.Model):
    """An occupation (细类) of the 中华人民共和国职业分类大典, code X-XX-XX-XX.

    `edition` is the edition whose code this is (2022, or 2022 with a later announcement in `source`);
    `announced_year` says when an occupation added after the 2022 book was announced (人社部 新职业).
    """

    code = models.CharField(_("职业编码"), max_length=10, unique=True)
    name = models.CharField(_("职业名称"), max_length=64)
    category = models.ForeignKey(
        OccupationCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="occupations",
        verbose_name=_("小类"),
    )
    edition = models.CharField(_("大典版本"), max_length=8, default=CURRENT_EDITION)
    source = models.CharField(
        _("来源"), max_length=64, blank=True, help_text=_("如:2022正式版、2024新职业(人社部公告)")
    )
    announced_year = models.PositiveSmallIntegerField(_("公布年份"), null=True, blank=True)
    initials = models.CharField(_("拼音首字母"), max_length=64, blank=True, db_index=True)
    retired_on = models.DateField(_("停用日期"), null=True, blank=True)
    qualification = models.ForeignKey(
        Qualification,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="occupations",
        verbose_name=_("对应目录条目"),
        help_text=_("该职业本身属于目录中的准入类或已取消的职业资格时填写"),
    )
    licensing_overlaps = models.ManyToManyField(
        Qualification,
        through="LicensingOverlap",
        blank=True,
        related_name="overlapping_occupations",
        verbose_name=_("交叉的准入类资格"),
    )
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("职业")
        verbose_name_plural = _("职业(大典)")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def standard_on(self, day: datetime.date) -> "Standard | None":
        return self.standards.in_force_on(day).order_by("-effective_from").first()


class WorkType(models.Model):
    """A 工种 (or 职业方向) within an occupation; printed on the certificate when there is one."""

    occupation = models.ForeignKey(Occupation, on_delete=models.CASCADE, related_name="work_types")
    name = models.CharField(_("工种名称"), max_length=64)
    code = models.CharField(_("工种编码"), max_length=16, blank=True)
    source = models.CharField(_("来源"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("工种")
        verbose_name_plural = _("工种")
        ordering = ["occupation__code", "name"]
        constraints = [models.UniqueConstraint(fields=["occupation", "name"], name="uniq_work_type")]

    def __str__(self) -> str:
        return f"{self.occupation.name}·{self.name}"


class OccupationCodeMapping(models.Model):
    """An earlier edition's occupation code and the 2022 occupation it now is, where that is known.

    Imported historical certificates keep the code they were issued with; eligibility and 贯通 read the 2022
    occupation this table points to. A code without a row here stays unmapped (shown as such), never guessed.
    """

    class Relation(models.TextChoices):
        SAME = "same", _("编码名称未变")
        RENAMED = "renamed", _("更名")
        RECODED = "recoded", _("编码调整")
        MERGED = "merged", _("并入")

    edition = models.CharField(_("原大典版本"), max_length=8)
    old_code = models.CharField(_("原职业编码"), max_length=16)
    old_name = models.CharField(_("原职业名称"), max_length=64)
    occupation = models.ForeignKey(
        Occupation, on_delete=models.PROTECT, related_name="earlier_codes", verbose_name=_("2022版职业")
    )
    relation = models.CharField(_("对应关系"), max_length=8, choices=Relation.choices)
    basis = models.CharField(_("依据"), max_length=255)

    class Meta:
        verbose_name = _("职业编码新旧对照")
        verbose_name_plural = _("职业编码新旧对照")
        ordering = ["edition", "old_code"]
        constraints = [models.UniqueConstraint(fields=["edition", "old_code"], name="uniq_code_mapping")]

    def __str__(self) -> str:
        return f"{self.edition}版 {self.old_code} {self.old_name} → {self.occupation}"


class LicensingOverlap(models.Model):
    """Part of an occupation's work that needs a 准入类 licence too (e.g. 电工 live-line work → 特种作业)."""

    occupation = models.ForeignKey(Occupation, on_delete=models.CASCADE)
    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("准入类交叉")
        verbose_name_plural = _("准入类交叉")
        constraints = [models.UniqueConstraint(fields=["occupation", "qualification"], name="uniq_licensing_overlap")]

    def __str__(self) -> str:
        return f"{self.occupation.name} ↔ {self.qualification.name}"


class StandardQuerySet(models.QuerySet):
    def in_force_on(self, day: datetime.date) -> "StandardQuerySet":
        return self.filter(effective_from__lte=day).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))


class Standard(models.Model):
    """A national occupational skill standard (国家职业技能标准) edition."""

    class Template(models.TextChoices):
        T2018 = "2018", _("2018—2022版标准")
        T2023 = "2023", _("2023年起新版标准")

    occupation = models.ForeignKey(
        Occupation, on_delete=models.PROTECT, related_name="standards", verbose_name=_("职业")
    )
    title = models.CharField(_("标准名称"), max_length=128)
    edition_year = models.PositiveSmallIntegerField(_("版本年份"))
    template = models.CharField(_("申报条件模板"), max_length=4, choices=Template.choices)
    effective_from = models.DateField(_("施行日期"))
    effective_to = models.DateField(_("废止日期"), null=True, blank=True)
    classification_edition = models.CharField(
        _("职业编码所依大典版本"),
        max_length=8,
        blank=True,
        help_text=_("标准文本所印职业编码出自的大典版本,如2018年版标准依2015年版大典"),
    )

    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = _("国家职业技能标准")
        verbose_name_plural = _("国家职业技能标准")
        ordering = ["occupation__code", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["occupation", "edition_year"], name="uniq_standard_edition")]

    def __str__(self) -> str:
        return f"{self.title}({self.edition_year}年版)"


class StandardLevel(models.Model):
    """What one standard says about one level: components, pass marks, staffing, durations, eligibility.

    components: [{"kind": "theory"|"skills"|"review", "name": "...", "pass_mark": 60, "min_minutes": 90}]
    staffing:   {"theory": {"per_candidates": 15, "min": 2}, "skills": {"per_candidates": 5, "min": 3,
                 "odd": true}, "review": {"min": 3, "odd": true}}
    eligibility: [{"code": "...", "label": "四级证书满4年", "all": [condition, ...]}, ...] — see
                 assessments/eligibility.py for the condition types.
    """

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="levels")
    level = models.ForeignKey(Level, on_delete=models.PROTECT)
    components = models.JSONField(_("考核科目"))
    staffing = models.JSONField(_("考评人员配比"))
    eligibility = models.JSONField(_("申报条件"))
    score_combination = models.CharField(
        _("多名考评员成绩合成"),
        max_length=16,
        choices=[("mean", _("算术平均")), ("trimmed_mean", _("去掉最高最低后平均"))],
        default="mean",
    )
    resit_window_months = models.PositiveSmallIntegerField(_("单科补考期限(月)"), default=12)

    class Meta:
        verbose_name = _("标准等级要求")
        verbose_name_plural = _("标准等级要求")
        ordering = ["standard", "level__rank"]
        constraints = [models.UniqueConstraint(fields=["standard", "level"], name="uniq_standard_level")]

    def __str__(self) -> str:
        return f"{self.standard} · {self.level}"


class CalendarDay(models.Model):
    """A day the State Council's holiday notice makes an exception of: a weekday off, or a weekend worked (调休).

    The notice for a year appears around November of the year before, often before the calendar library is
    updated, so operators enter it here. Rows override the library day by day; once a year has any row it
    counts as published (no longer provisional), so enter the whole notice for that year at once.
    occupations/workdays.py is the only reader.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("上班"), default=False, help_text=_("勾选表示调休上班;不勾选表示放假"))
    name = models.CharField(_("名称"), max_length=32, help_text=_("如:春节、国庆节调休上班"))
    year = models.PositiveSmallIntegerField(_("年份"), db_index=True, editable=False)
    source = models.CharField(
        _("依据"), max_length=255, blank=True, help_text=_("如:国务院办公厅关于2027年部分节假日安排的通知")
    )

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}({'上班' if self.is_workday else '放假'})"

    def save(self, *args, **kwargs) -> None:
        # `year` only exists so that a year's rows are one indexed lookup; it must never disagree with `date`.
        self.year = self.date.year
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "date" in update_fields:
            kwargs["update_fields"] = {*update_fields, "year"}
        super().save(*args, **kwargs)


class EquivalenceRule(models.Model):
    """A 贯通 rule: what one credential lets its holder apply for, from when, on what basis.

    Two directions, both dated data because they change by policy and province:
    - skill level → professional title (高级工 + 2 years → may apply for 助理工程师), shown on a worker's page;
    - professional title or education → skill-level eligibility (初级职称 + 1 year → may apply for 三级),
      added to the routes of the standards whose template the rule lists (empty: every standard). A standard's
      own route with the same code wins, so a rule never counts twice.
    The eligibility engine (assessments/eligibility.py) evaluates the skill-level direction as ordinary routes.
    """

    class Source(models.TextChoices):
        SKILL_LEVEL = "skill_level", _("职业技能等级")
        TITLE = "title", _("职称")
        EDUCATION = "education", _("学历")

    class Target(models.TextChoices):
        TITLE = "title", _("可申报职称评审")
        SKILL_LEVEL = "skill_level", _("可申报职业技能等级")

    class TitleGrade(models.TextChoices):
        JUNIOR = "junior", _("初级职称")
        INTERMEDIATE = "intermediate", _("中级职称")
        SENIOR = "senior", _("副高级职称")
        FULL_SENIOR = "full_senior", _("正高级职称")

    code = models.CharField(_("规则代码"), max_length=32, unique=True)
    label = models.CharField(_("规则说明"), max_length=255)
    source = models.CharField(_("依据的资历"), max_length=16, choices=Source.choices)
    source_level = models.ForeignKey(
        Level, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("所持技能等级")
    )
    source_title_grade = models.CharField(_("所持职称等级"), max_length=16, choices=TitleGrade.choices, blank=True)
    source_education_kinds = models.JSONField(
        _("所持学历类别"), default=list, blank=True, help_text=_('如 ["advanced_class"],见申报条件的学历类别')
    )
    min_years = models.DecimalField(_("取得后须满年限"), max_digits=4, decimal_places=1, default=0)
    target = models.CharField(_("可申报"), max_length=16, choices=Target.choices)
    target_title = models.CharField(_("可申报职称"), max_length=32, blank=True, help_text=_("如:助理工程师"))
    target_title_grade = models.CharField(_("可申报职称等级"), max_length=16, choices=TitleGrade.choices, blank=True)
    target_level = models.ForeignKey(
        Level, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("可申报技能等级")
    )
    extra_conditions = models.JSONField(
        _("附加条件"), default=list, blank=True, help_text=_("申报条件的条件列表,如工作年限;仅用于申报技能等级")
    )
    standard_templates = models.JSONField(
        _("适用标准模板"), default=list, blank=True, help_text=_('如 ["2023"];空为全部标准')
    )
    scope = models.CharField(
        _("适用范围"), max_length=6, default="", blank=True, help_text=_("空为全国;省级规则填省级代码前两位")
    )
    basis = models.CharField(_("政策依据"), max_length=255)
    effective_from = models.DateField(_("施行日期"))
    effective_to = models.DateField(_("废止日期"), null=True, blank=True, help_text=_("最后一个有效日"))

    class Meta:
        verbose_name = _("贯通规则")
        verbose_name_plural = _("技能等级与职称、学历贯通规则")
        ordering = ["target", "source", "effective_from", "code"]
        constraints = [
            models.CheckConstraint(
                name="equivalence_effective_to_after_from",
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def applies_in(self, region_code: str) -> bool:
        return not self.scope or region_code.startswith(self.scope)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        if self.source == self.Source.SKILL_LEVEL and self.source_level is None:
            errors["source_level"] = _("请选择所持技能等级")
        if self.source == self.Source.TITLE and not self.source_title_grade:
            errors["source_title_grade"] = _("请选择所持职称等级")
        if self.source == self.Source.EDUCATION and not self.source_education_kinds:
            errors["source_education_kinds"] = _("请填写学历类别")
        if self.target == self.Target.TITLE and not self.target_title:
            errors["target_title"] = _("请填写可申报的职称")
        if self.target == self.Target.SKILL_LEVEL and self.target_level is None:
            errors["target_level"] = _("请选择可申报的技能等级")
        if self.target == self.Target.SKILL_LEVEL and self.source == self.Source.SKILL_LEVEL:
            errors["source"] = _("技能等级之间的晋升由标准的申报条件规定")
        if errors:
            raise ValidationError(errors)
