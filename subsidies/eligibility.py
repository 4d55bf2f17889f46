"""Subsidy eligibility and amount: the ONE place that decides, rule by rule, with the facts and the calculation.

The claim page, the API, the employer's bulk claim, every review step and the benchmark all call `assess()`.
It takes Claim instances (saved or not yet saved) and loads everything else the rules read in a handful of
queries for the whole batch, so 100,000 claims cost the same few queries as one:

    PolicyBook  every policy version with its amounts, the shortage lists, the levels (3 queries)
    Facts       per person: unemployment-insurance records, training subsidies received, other live claims
                (3 queries per 2,000 people)

Rules, in the order a claimant reads them; each result says met or failed and the facts it looked at:

    policy            the most specific region policy in force (长春 over 吉林省) on the claim date; when that
                      version says so, the version in force on the certificate's issue date instead
    certificate       valid (not revoked, suspended or replaced), held by the claimant, with an occupation code
    claim_window      claimed on or after the issue date and within N months of it (same day N months later;
                      a day the month lacks falls on its last day)
    group             the claimant's category is not excluded (在校学生, 机关事业单位工作人员)
    insurance         ≥ N months of unemployment insurance, or receiving unemployment benefit where allowed.
                      The bureau's imported record wins over the claimant's declaration; a declaration alone
                      meets the rule but is marked unverified, for the reviewing officer. Where the version
                      counts military service, the veterans' record (or the declared months, unverified) is added
    job_fit           证岗相适, where the version asks for it: the employer's statement of the worker's job or the
                      insurance record's job, against the certificate's occupation (same occupation, or same 小类);
                      no job on record at all leaves it to the officer (met, unverified)
    once              no other live claim for the same occupation × level (the database enforces it too)
    elsewhere         no subsidy for the same occupation × level in another region's imported records; a worker who
                      moved in declares they were not paid where they came from, verified against that region's
                      extract when one was imported (else unverified)
    no_lower          no granted claim, and no other region's payment, for a higher level of the same occupation;
                      where the version says so (2025 wording), no higher certificate of the same occupation held
                      on the claim date either: issued on the platform, imported, or declared and verified
    yearly_cap        granted claims in the claim's calendar year stay within the cap: at most `yearly_cap`
                      claims for ordinary occupations, plus `yearly_cap_shortage_extra` for shortage ones
    training_subsidy  no 职业培训补贴 received for the same occupation (and level, where the record has one)
    amount            the policy has an amount for the level

The amount is the level's base, raised by the policy's shortage uplift when the occupation is on the region's
急需紧缺 list for the year the certificate was issued, capped at the policy's per-claim ceiling, rounded to the
yuan. "Granted" means approved, in payment or paid: pending claims are shown but do not use up a limit, so the
limit is checked again, under a lock on the person, when a claim is approved.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.dates import add_months
from occupations.models import Level, Region

from .models import (
    Claim,
    DeclaredCertificate,
    InsuranceRecord,
    MilitaryServiceRecord,
    OtherRegionExtract,
    OtherRegionSubsidyRecord,
    PolicyAmount,
    ShortageOccupation,
    SubsidyPolicy,
    TrainingSubsidyRecord,
)

CHUNK = 2000
GRANTED = frozenset(Claim.GRANTED)
CLOSED = frozenset(Claim.CLOSED)
CATEGORY_LABELS = dict(Claim.Category.choices)
STATUS_LABELS = dict(Claim.Status.choices)


def yuan(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


# --- Results ------------------------------------------------------------------------------------------------


class RuleResult(NamedTuple):
    """One rule's outcome. A tuple, not a dataclass: a batch creates ten per claim, a million per 100,000."""

    code: str
    label: str
    met: bool
    facts: str
    verified: bool = True
    # Failed only because the claimant has not yet answered what the rule asks (the form shows 待填写, not 不符合).
    awaiting: bool = False

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "met": self.met,
            "facts": self.facts,
            "verified": self.verified,
            "awaiting": self.awaiting,
        }


@dataclass(frozen=True)
class Calculation:
    base: Decimal
    uplift_percent: int
    shortage: bool
    uncapped: Decimal
    ceiling: Decimal | None
    amount: Decimal
    text: str

    def as_dict(self) -> dict:
        return {
            "base": str(self.base),
            "uplift_percent": self.uplift_percent,
            "shortage": self.shortage,
            "uncapped": str(self.uncapped),
            "ceiling": str(self.ceiling) if self.ceiling is not None else None,
            "amount": str(self.amount),
            "text": self.text,
        }


@dataclass
class Decision:
    eligible: bool
    rules: list[RuleResult]
    assessed_on: datetime.date
    policy: SubsidyPolicy | None = None
    basis_date: datetime.date | None = None
    shortage: bool = False
    calculation: Calculation | None = None

    @property
    def amount(self) -> Decimal | None:
        return self.calculation.amount if self.calculation and self.eligible else None

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.met]

    @property
    def awaiting(self) -> bool:
        """Not yet decidable: every failed rule waits only for an answer the claimant has still to give."""
        return not self.eligible and bool(self.failures) and all(r.awaiting for r in self.failures)

    @property
    def unverified(self) -> list[RuleResult]:
        return [r for r in self.rules if r.met and not r.verified]

    @property
    def summary(self) -> str:
        """One line: why not, or that it is eligible and for how much."""
        if not self.eligible:
            return ";".join(f"{r.label}:{r.facts}" for r in self.failures)
        return _("符合补贴条件,补贴%(a)s元") % {"a": yuan(self.amount)}

    def as_dict(self) -> dict:
        policy = None
        if self.policy is not None:
            policy = {
                "id": self.policy.id,
                "code": self.policy.code,
                "name": self.policy.name,
                "region": self.policy.region.code,
                "effective_from": self.policy.effective_from.isoformat(),
                "effective_to": self.policy.effective_to.isoformat() if self.policy.effective_to else None,
                "version_basis": self.policy.version_basis,
                "basis_date": self.basis_date.isoformat() if self.basis_date else None,
                "document_number": self.policy.document_number,
                "document_date": self.policy.document_date.isoformat() if self.policy.document_date else None,
                "has_basis": self.policy.has_basis,
                "is_demonstration": self.policy.is_demonstration,
                "basis_label": self.policy.basis_label,
            }
        return {
            "eligible": self.eligible,
            "awaiting": self.awaiting,
            "assessed_on": self.assessed_on.isoformat(),
            "policy": policy,
            "shortage": self.shortage,
            "amount": str(self.amount) if self.amount is not None else None,
            "calculation": self.calculation.as_dict() if self.calculation else None,
            "rules": [r.as_dict() for r in self.rules],
        }


# --- What the rules read ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insurance:
    months: int
    as_of: datetime.date
    benefit: bool
    source: str
    job_occupation_id: int | None = None


class Held(NamedTuple):
    """A certificate the person holds: on the platform (issued or imported), or declared outside it."""

    number: str
    occupation_id: int
    level_id: int
    issued_on: datetime.date
    origin: str  # "platform", "imported", "declared"
    verified: bool
    note: str = ""


class PaidElsewhere(NamedTuple):
    occupation_id: int
    level_id: int
    paid_on: datetime.date
    region_name: str


@dataclass(frozen=True)
class OtherClaim:
    id: int
    certificate_id: int
    occupation_id: int
    level_id: int
    status: str
    year: int
    is_shortage: bool


def _prefix(code: str, kind: str) -> str:
    return Region(code=code, kind=kind).prefix


def _prefixes(region_code: str) -> tuple[str, ...]:
    """Every prefix a policy or list covering this region could have: province, city, the region itself."""
    return (region_code[:2], region_code[:4], region_code)


class PolicyBook:
    """Every policy version, amount and shortage list, read once; lookups are then in memory."""

    def __init__(
        self,
        policies: list[SubsidyPolicy],
        amounts: dict[int, dict[int, Decimal]],
        shortage: set[tuple[str, int, int]],
        levels: dict[int, Level],
        occupations: dict[int, tuple[str, str]] | None = None,
        extracts: list[tuple[str, str, datetime.date]] | None = None,
    ):
        self.policies = policies
        self.amounts = amounts
        self.shortage = shortage
        self.levels = levels
        self.occupations = occupations or {}
        # Other regions' extracts: (region prefix, region name, as of), newest first.
        self.extracts = sorted(extracts or [], key=lambda e: e[2], reverse=True)
        self._prefix = {p.id: p.region.prefix for p in policies}
        self._in_force: dict[tuple[str, datetime.date], SubsidyPolicy | None] = {}

    @classmethod
    def load(cls) -> "PolicyBook":
        policies = list(SubsidyPolicy.objects.select_related("region"))
        amounts: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for policy_id, level_id, amount in PolicyAmount.objects.values_list("policy_id", "level_id", "amount"):
            amounts[policy_id][level_id] = amount
        shortage = {
            (_prefix(code, kind), year, occupation_id)
            for code, kind, year, occupation_id in ShortageOccupation.objects.values_list(
                "region__code", "region__kind", "year", "occupation_id"
            )
        }
        from occupations.models import Occupation

        occupations = {pk: (code, name) for pk, code, name in Occupation.objects.values_list("id", "code", "name")}
        extracts = [
            (Region(code=code, kind=kind).prefix, name, as_of)
            for code, kind, name, as_of in OtherRegionExtract.objects.values_list(
                "source_region__code", "source_region__kind", "source_region__name", "as_of"
            )
        ]
        return cls(policies, dict(amounts), shortage, {lv.id: lv for lv in Level.objects.all()}, occupations, extracts)

    def last_before(self, region_code: str, day: datetime.date) -> SubsidyPolicy | None:
        """The most recent version covering the region that ended before `day` (to tell a claimant what lapsed)."""
        ended = [
            p
            for p in self.policies
            if region_code.startswith(self._prefix[p.id]) and p.effective_to is not None and p.effective_to < day
        ]
        return max(ended, key=lambda p: (p.effective_to, len(self._prefix[p.id])), default=None)

    def extract_for(self, region_code: str) -> tuple[str, datetime.date] | None:
        """The newest imported extract of another region that covers `region_code`: (its name, as of)."""
        for prefix, name, as_of in self.extracts:
            if region_code.startswith(prefix):
                return name, as_of
        return None

    def in_force(self, region_code: str, day: datetime.date) -> SubsidyPolicy | None:
        """The version in force on `day` for the most specific region containing `region_code`."""
        key = (region_code, day)
        if key not in self._in_force:
            best, best_rank = None, (-1, datetime.date.min)
            for policy in self.policies:
                prefix = self._prefix[policy.id]
                if not region_code.startswith(prefix) or policy.effective_from > day:
                    continue
                if policy.effective_to is not None and policy.effective_to < day:
                    continue
                rank = (len(prefix), policy.effective_from)
                if rank > best_rank:
                    best, best_rank = policy, rank
            self._in_force[key] = best
        return self._in_force[key]

    def select(
        self, region_code: str, claimed_on: datetime.date, issued_on: datetime.date
    ) -> tuple[SubsidyPolicy | None, datetime.date]:
        """The version that applies, and the date that selected it."""
        current = self.in_force(region_code, claimed_on)
        if current is not None and current.version_basis == SubsidyPolicy.VersionBasis.ISSUED_ON:
            at_issue = self.in_force(region_code, issued_on)
            if at_issue is not None:
                return at_issue, issued_on
        return current, claimed_on

    def is_shortage(self, region_code: str, year: int, occupation_id: int) -> bool:
        return any((p, year, occupation_id) in self.shortage for p in _prefixes(region_code))


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Facts:
    """Per-person facts for a batch of claims: insurance records, training subsidies, other live claims."""

    def __init__(self, person_ids: Iterable[int]):
        self.insurance: dict[int, list[Insurance]] = defaultdict(list)
        self.training: dict[int, list[tuple[int, int | None, datetime.date]]] = defaultdict(list)
        self.claims: dict[int, list[OtherClaim]] = defaultdict(list)
        self.held: dict[int, list[Held]] = defaultdict(list)
        self.military: dict[int, list[tuple[int, datetime.date]]] = defaultdict(list)
        self.elsewhere: dict[int, list[PaidElsewhere]] = defaultdict(list)
        from certificates.models import Certificate

        for chunk in _chunks(sorted(set(person_ids)), CHUNK):
            records = InsuranceRecord.objects.filter(person_id__in=chunk).order_by("as_of")
            for person_id, months, as_of, benefit, source, job in records.values_list(
                "person_id", "months", "as_of", "receives_unemployment_benefit", "source", "job_occupation_id"
            ):
                self.insurance[person_id].append(Insurance(months, as_of, benefit, source, job))
            held = Certificate.objects.filter(person_id__in=chunk, status="valid", occupation__isnull=False)
            for person_id, number, occ_id, level_id, issued_on, imported in held.values_list(
                "person_id", "number", "occupation_id", "level_id", "issued_on", "imported"
            ):
                origin = "imported" if imported else "platform"
                self.held[person_id].append(Held(number, occ_id, level_id, issued_on, origin, True))
            declared = DeclaredCertificate.objects.filter(person_id__in=chunk).exclude(
                status=DeclaredCertificate.Status.REJECTED
            )
            for person_id, number, occ_id, level_id, issued_on, status, how in declared.values_list(
                "person_id", "number", "occupation_id", "level_id", "issued_on", "status", "verification"
            ):
                verified = status == DeclaredCertificate.Status.VERIFIED
                self.held[person_id].append(Held(number, occ_id, level_id, issued_on, "declared", verified, how))
            for person_id, months, discharged_on in MilitaryServiceRecord.objects.filter(
                person_id__in=chunk
            ).values_list("person_id", "months", "discharged_on"):
                self.military[person_id].append((months, discharged_on))
            for person_id, occ_id, level_id, paid_on, region_name in OtherRegionSubsidyRecord.objects.filter(
                person_id__in=chunk
            ).values_list("person_id", "occupation_id", "level_id", "paid_on", "extract__source_region__name"):
                self.elsewhere[person_id].append(PaidElsewhere(occ_id, level_id, paid_on, region_name))
            for person_id, occupation_id, level_id, granted_on in TrainingSubsidyRecord.objects.filter(
                person_id__in=chunk
            ).values_list("person_id", "occupation_id", "level_id", "granted_on"):
                self.training[person_id].append((occupation_id, level_id, granted_on))
            live = Claim.objects.filter(person_id__in=chunk).exclude(status__in=CLOSED)
            for row in live.values_list(
                "id", "person_id", "certificate_id", "occupation_id", "level_id", "status", "claimed_on", "is_shortage"
            ):
                claim_id, person_id, cert_id, occ_id, level_id, status, claimed_on, shortage = row
                self.claims[person_id].append(
                    OtherClaim(claim_id, cert_id, occ_id, level_id, status, claimed_on.year, shortage)
                )


# --- The rules ----------------------------------------------------------------------------------------------


def _insurance_at(records: list[Insurance], day: datetime.date) -> Insurance | None:
    """The latest record as of the claim date; failing that, the first one after it."""
    before = [r for r in records if r.as_of <= day]
    if before:
        return before[-1]
    return records[0] if records else None


RULE_LABELS = {
    "policy": _lazy("适用政策"),
    "certificate": _lazy("证书有效"),
    "claim_window": _lazy("申领期限"),
    "group": _lazy("人员类别"),
    "insurance": _lazy("参保条件"),
    "job_fit": _lazy("证岗相适"),
    "once": _lazy("同一职业同一等级只享受一次"),
    "elsewhere": _lazy("未在其他地区享受同一补贴"),
    "no_lower": _lazy("已持有或已享受高等级的,不再享受低等级补贴"),
    "yearly_cap": _lazy("年度享受次数"),
    "training_subsidy": _lazy("不与职业培训补贴重复享受"),
    "amount": _lazy("补贴标准"),
}

# Every text the rules produce, translated once per batch (gettext per rule per claim would cost more than
# the rules themselves over 100,000 claims).
MESSAGES = {
    "cert_not_holders": _lazy("证书%(c)s不属于申请人"),
    "cert_no_occupation": _lazy("证书%(c)s未登记职业编码,请联系发证地人社部门补录"),
    "cert_status": _lazy("证书%(c)s状态为“%(s)s”,不能申领"),
    "cert_valid": _lazy("证书%(c)s有效"),
    "window_early": _lazy("申请日期%(c)s早于发证日期%(i)s"),
    "window_late": _lazy("发证日期%(i)s,已超过发证后%(n)d个月的申领期限(截至%(l)s)"),
    "window_ok": _lazy("发证日期%(i)s,申请日期%(c)s,申领截至%(l)s"),
    "group_excluded": _lazy("%(g)s不在补贴范围内"),
    "group_ok": _lazy("人员类别:%(g)s"),
    "insured_record": _lazy("社保记录:截至%(d)s累计缴纳失业保险%(m)d个月"),
    "benefit_record": _lazy("社保记录:领取失业保险金人员(截至%(d)s)"),
    "insured_enough": _lazy("%(w)s(要求不少于%(n)d个月)"),
    "insured_short": _lazy("%(w)s,不足%(n)d个月"),
    "benefit_declared": _lazy("本人申报为领取失业保险金人员(待社保记录核实)"),
    "insured_unknown": _lazy("未提供失业保险缴费月数,也无社保记录(要求不少于%(n)d个月)"),
    "declared_enough": _lazy("本人申报缴纳失业保险%(m)d个月(要求不少于%(n)d个月,待社保记录核实)"),
    "declared_short": _lazy("本人申报缴纳失业保险%(m)d个月,不足%(n)d个月"),
    "military_record": _lazy(" + 服役记录%(m)d个月(退役日期%(d)s,视同缴费)"),
    "military_declared": _lazy(" + 本人申报服役%(m)d个月(视同缴费,待退役军人事务部门记录核实)"),
    "total_enough": _lazy("%(w)s,合计%(t)d个月(要求不少于%(n)d个月)"),
    "total_short": _lazy("%(w)s,合计%(t)d个月,不足%(n)d个月"),
    "military_only": _lazy("无失业保险缴费记录"),
    "declared_where": _lazy("本人申报缴纳失业保险%(m)d个月(待社保记录核实)"),
    "job_fit_off": _lazy("本政策不核查证岗相适"),
    "job_employer": _lazy("用人单位说明岗位:%(j)s"),
    "job_insurance": _lazy("参保登记岗位:%(j)s"),
    "job_fits": _lazy("%(f)s;与证书职业%(o)s相适(%(m)s)"),
    "job_misfit": _lazy("%(f)s;与证书职业%(o)s不相适(%(m)s)"),
    "job_unknown": _lazy("无用人单位岗位说明,也无参保登记岗位,无法按数据判定,转经办人员核实(%(s)s)"),
    "elsewhere_paid": _lazy("%(r)s记录:已于%(d)s享受%(o)s %(l)s补贴"),
    "elsewhere_undeclared": _lazy("从%(r)s转入,须声明未在%(r)s享受%(o)s %(l)s补贴"),
    "elsewhere_verified": _lazy("从%(r)s转入,本人声明未享受;已核对%(x)s记录(截至%(d)s),无该补贴"),
    "elsewhere_unverified": _lazy("从%(r)s转入,本人声明未享受(尚未导入%(r)s的记录,待核实)"),
    "elsewhere_none": _lazy("已导入的异地记录中无%(o)s %(l)s补贴"),
    "elsewhere_off": _lazy("已导入的异地记录中无%(o)s %(l)s补贴;本政策不要求转入人员另行核实"),
    "held_platform": _lazy("平台核发"),
    "held_imported": _lazy("历史证书导入"),
    "held_declared": _lazy("本人申报,已核实"),
    "held_pending": _lazy("本人申报,待核实"),
    "held_cert": _lazy("持有%(o)s %(l)s证书%(n)s(%(w)s,%(d)s发证),不再享受低等级补贴"),
    "paid_higher_elsewhere": _lazy("已于%(d)s在%(r)s享受%(o)s %(l)s补贴,不得再申领较低等级"),
    "lower_ok_holding": _lazy("未持有%(o)s更高等级证书(平台核发、导入或经核实申报),未享受更高等级补贴"),
    "lower_pending": _lazy(";申报的%(l)s证书%(n)s待核实,核实后不得享受本补贴"),
    "once_taken": _lazy("已有%(l)s的补贴申请#%(id)d(%(s)s)"),
    "once_ok": _lazy("此前未享受或申请%(l)s的补贴"),
    "lower_refused": _lazy("已享受%(o)s %(l)s的补贴(申请#%(id)d),不得再申领较低等级"),
    "lower_ok": _lazy("未享受过%(o)s更高等级的补贴"),
    "cap_with_extra": _lazy("每人每年%(c)d次,急需紧缺职业可再享受%(e)d次"),
    "cap_plain": _lazy("每人每年%(c)d次"),
    "cap_used": _lazy("%(y)d年已享受%(n)d次(上限:%(l)s)"),
    "cap_pending": _lazy(";另有%(p)d笔申请在办"),
    "cap_ordinary_full": _lazy(";非急需紧缺职业本年度已达%(c)d次"),
    "training_allowed": _lazy("本政策不限制与职业培训补贴同时享受"),
    "training_taken": _lazy("已于%(d)s享受%(o)s职业培训补贴"),
    "training_ok": _lazy("未享受%(o)s职业培训补贴"),
    "amount_missing": _lazy("该政策未规定%(l)s的补贴标准"),
    "calc_base": _lazy("基础标准%(b)s元(%(l)s)"),
    "calc_uplift": _lazy(" × (1 + %(u)d%% 急需紧缺职业上浮) = %(x)s元"),
    "calc_no_uplift": _lazy("(急需紧缺职业,本政策不上浮)"),
    "calc_ceiling": _lazy(";单次上限%(c)s元"),
    "calc_result": _lazy(" → 补贴%(a)s元"),
    "amount_ok": _lazy("%(l)s补贴标准%(b)s元"),
    "policy_none": _lazy("%(r)s在%(d)s没有施行中的技能提升补贴政策"),
    "policy_lapsed": _lazy(";《%(n)s》已于%(e)s到期"),
    "policy_advice": _lazy("。新政策发布施行后,可在证书申领期限内重新申请;详情请咨询参保地人社部门"),
    "policy_basis": _lazy(";依据:%(b)s"),
    "basis_issued": _lazy("按发证日期%(d)s确定版本"),
    "basis_claimed": _lazy("按申请日期%(d)s确定版本"),
    "policy_found": _lazy("《%(n)s》(%(r)s,%(f)s起施行);%(h)s"),
}


class _Evaluator:
    def __init__(self, book: PolicyBook, facts: Facts, today: datetime.date):
        self.book, self.facts, self.today = book, facts, today
        self.labels = {code: str(label) for code, label in RULE_LABELS.items()}
        self.m = {key: str(text) for key, text in MESSAGES.items()}

    def rule(self, code: str, met: bool, facts: str, verified: bool = True, awaiting: bool = False) -> RuleResult:
        return RuleResult(code, self.labels[code], met, facts, verified, awaiting)

    def level_label(self, level_id: int) -> str:
        level = self.book.levels.get(level_id)
        return level.label if level else str(level_id)

    # Each rule returns one RuleResult. ------------------------------------------------------------------

    def certificate(self, claim: Claim) -> RuleResult:
        cert = claim.certificate
        described = f"{cert.number}({cert.occupation_name} {self.level_label(cert.level_id)})"
        if cert.person_id != claim.person_id:
            return self.rule("certificate", False, self.m["cert_not_holders"] % {"c": described})
        if cert.occupation_id is None:
            return self.rule("certificate", False, self.m["cert_no_occupation"] % {"c": described})
        if cert.status != "valid":
            return self.rule(
                "certificate",
                False,
                self.m["cert_status"] % {"c": described, "s": cert.get_status_display()},
            )
        return self.rule("certificate", True, self.m["cert_valid"] % {"c": described})

    def claim_window(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        issued = claim.certificate.issued_on
        last = add_months(issued, policy.claim_window_months)
        values = {"i": issued, "l": last, "c": claim.claimed_on, "n": policy.claim_window_months}
        if claim.claimed_on < issued:
            return self.rule("claim_window", False, self.m["window_early"] % values)
        if claim.claimed_on > last:
            return self.rule("claim_window", False, self.m["window_late"] % values)
        return self.rule("claim_window", True, self.m["window_ok"] % values)

    def group(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        label = CATEGORY_LABELS.get(claim.category, claim.category)
        if claim.category in (policy.excluded_groups or []):
            return self.rule("group", False, self.m["group_excluded"] % {"g": label})
        return self.rule("group", True, self.m["group_ok"] % {"g": label})

    def military(self, claim: Claim, policy: SubsidyPolicy) -> tuple[int, str, bool]:
        """(months, facts, verified) of military service counted as insured time; none unless the version says so."""
        if not policy.counts_military_service:
            return 0, "", True
        records = [r for r in self.facts.military.get(claim.person_id, []) if r[1] <= claim.claimed_on]
        if records:
            months = sum(m for m, _d in records)
            return months, self.m["military_record"] % {"m": months, "d": max(d for _m, d in records)}, True
        declared = claim.military_months_declared or 0
        if declared:
            return declared, self.m["military_declared"] % {"m": declared}, False
        return 0, "", True

    def insurance(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        need = policy.insurance_months_required
        record = _insurance_at(self.facts.insurance.get(claim.person_id, []), claim.claimed_on)
        if record is not None and policy.accepts_unemployment_benefit and record.benefit:
            return self.rule("insurance", True, self.m["benefit_record"] % {"d": record.as_of})
        if record is None and policy.accepts_unemployment_benefit and claim.category == Claim.Category.UNEMPLOYED:
            return self.rule("insurance", True, self.m["benefit_declared"], verified=False)
        served, served_text, served_verified = self.military(claim, policy)
        declared = claim.insurance_months_declared
        if record is not None:
            months, verified = record.months, True
            where = self.m["insured_record"] % {"d": record.as_of, "m": record.months}
        elif declared is not None:
            months, verified = declared, False
            where = self.m["declared_where"] % {"m": declared}
        elif served:
            months, verified, where = 0, True, self.m["military_only"]
        else:
            return self.rule("insurance", False, self.m["insured_unknown"] % {"n": need}, awaiting=True)
        if served:
            total = months + served
            key = "total_enough" if total >= need else "total_short"
            facts = self.m[key] % {"w": where + served_text, "t": total, "n": need}
            return self.rule("insurance", total >= need, facts, verified=verified and served_verified)
        if record is None:
            key = "declared_enough" if declared >= need else "declared_short"
            return self.rule("insurance", declared >= need, self.m[key] % {"m": declared, "n": need}, verified=False)
        key = "insured_enough" if months >= need else "insured_short"
        return self.rule("insurance", months >= need, self.m[key] % {"w": where, "n": need})

    def _occupation(self, occupation_id: int | None) -> tuple[str, str]:
        return self.book.occupations.get(occupation_id, ("", "—"))

    def job_fit(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        source = policy.job_fit_source
        if not source:
            return self.rule("job_fit", True, self.m["job_fit_off"])
        cert_code, cert_name = self._occupation(claim.occupation_id)
        minor = policy.job_fit_match == SubsidyPolicy.JobFitMatch.MINOR_GROUP
        how = str(SubsidyPolicy.JobFitMatch(policy.job_fit_match).label)
        stated: list[tuple[str, int]] = []
        if source in ("employer", "either") and claim.job_occupation_id:
            stated.append((self.m["job_employer"], claim.job_occupation_id))
        if source in ("insurance", "either"):
            record = _insurance_at(self.facts.insurance.get(claim.person_id, []), claim.claimed_on)
            if record is not None and record.job_occupation_id:
                stated.append((self.m["job_insurance"], record.job_occupation_id))
        if not stated:
            label = str(SubsidyPolicy.JobFit(source).label)
            return self.rule("job_fit", True, self.m["job_unknown"] % {"s": label}, verified=False)
        facts, fits = [], False
        for template, occupation_id in stated:
            code, name = self._occupation(occupation_id)
            facts.append(template % {"j": f"{name}({code})"})
            fits = fits or (code[:7] == cert_code[:7] if minor else occupation_id == claim.occupation_id)
        values = {"f": ";".join(facts), "o": f"{cert_name}({cert_code})", "m": how}
        return self.rule("job_fit", fits, self.m["job_fits" if fits else "job_misfit"] % values)

    def elsewhere(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        occupation, level = claim.certificate.occupation_name, self.level_label(claim.level_id)
        for paid in self.facts.elsewhere.get(claim.person_id, []):
            if paid.occupation_id == claim.occupation_id and paid.level_id == claim.level_id:
                values = {"r": paid.region_name, "d": paid.paid_on, "o": occupation, "l": level}
                return self.rule("elsewhere", False, self.m["elsewhere_paid"] % values)
        came_from = claim.transferred_from
        if came_from is None or not policy.checks_other_regions:
            key = "elsewhere_none" if policy.checks_other_regions else "elsewhere_off"
            return self.rule("elsewhere", True, self.m[key] % {"o": occupation, "l": level})
        values = {"r": came_from.name, "o": occupation, "l": level}
        if not claim.declares_not_paid_elsewhere:
            return self.rule("elsewhere", False, self.m["elsewhere_undeclared"] % values, awaiting=True)
        extract = self.book.extract_for(came_from.code)
        if extract is None:
            return self.rule("elsewhere", True, self.m["elsewhere_unverified"] % values, verified=False)
        return self.rule("elsewhere", True, self.m["elsewhere_verified"] % {**values, "x": extract[0], "d": extract[1]})

    def others(self, claim: Claim) -> list[OtherClaim]:
        return [o for o in self.facts.claims.get(claim.person_id, []) if o.id != claim.pk]

    def once(self, claim: Claim, others: list[OtherClaim]) -> RuleResult:
        label = f"{claim.certificate.occupation_name} {self.level_label(claim.level_id)}"
        for o in others:
            if o.certificate_id == claim.certificate_id or (
                o.occupation_id == claim.occupation_id and o.level_id == claim.level_id
            ):
                return self.rule(
                    "once",
                    False,
                    self.m["once_taken"] % {"l": label, "id": o.id, "s": STATUS_LABELS[o.status]},
                )
        return self.rule("once", True, self.m["once_ok"] % {"l": label})

    def no_lower(self, claim: Claim, policy: SubsidyPolicy, others: list[OtherClaim]) -> RuleResult:
        rank = self.book.levels[claim.level_id].rank
        occupation = claim.certificate.occupation_name

        def higher(occupation_id: int, level_id: int) -> bool:
            level = self.book.levels.get(level_id)
            return occupation_id == claim.occupation_id and level is not None and level.rank > rank

        for o in others:
            if o.status in GRANTED and higher(o.occupation_id, o.level_id):
                values = {"o": occupation, "l": self.level_label(o.level_id), "id": o.id}
                return self.rule("no_lower", False, self.m["lower_refused"] % values)
        for paid in self.facts.elsewhere.get(claim.person_id, []):
            if higher(paid.occupation_id, paid.level_id):
                values = {
                    "d": paid.paid_on,
                    "r": paid.region_name,
                    "o": occupation,
                    "l": self.level_label(paid.level_id),
                }
                return self.rule("no_lower", False, self.m["paid_higher_elsewhere"] % values)
        if not policy.no_lower_if_holding_higher:
            return self.rule("no_lower", True, self.m["lower_ok"] % {"o": occupation})
        pending = ""
        for held in self.facts.held.get(claim.person_id, []):
            if held.number == claim.certificate.number or held.issued_on > claim.claimed_on:
                continue
            if not higher(held.occupation_id, held.level_id):
                continue
            if not held.verified:
                pending = self.m["lower_pending"] % {"l": self.level_label(held.level_id), "n": held.number}
                continue
            where = self.m[f"held_{held.origin}"]
            if held.note:
                where = f"{where}:{held.note}"
            values = {
                "o": occupation,
                "l": self.level_label(held.level_id),
                "n": held.number,
                "w": where,
                "d": held.issued_on,
            }
            return self.rule("no_lower", False, self.m["held_cert"] % values)
        return self.rule(
            "no_lower", True, self.m["lower_ok_holding"] % {"o": occupation} + pending, verified=not pending
        )

    def yearly_cap(self, claim: Claim, policy: SubsidyPolicy, others: list[OtherClaim], shortage: bool) -> RuleResult:
        year = claim.claimed_on.year
        same_year = [o for o in others if o.year == year]
        granted = [o for o in same_year if o.status in GRANTED]
        ordinary = sum(1 for o in granted if not o.is_shortage)
        cap, extra = policy.yearly_cap, policy.yearly_cap_shortage_extra
        limit = self.m["cap_with_extra"] % {"c": cap, "e": extra} if extra else self.m["cap_plain"] % {"c": cap}
        pending = len(same_year) - len(granted)
        facts = self.m["cap_used"] % {"y": year, "n": len(granted), "l": limit}
        if pending:
            facts += self.m["cap_pending"] % {"p": pending}
        total_ok = len(granted) + 1 <= cap + extra
        ordinary_ok = shortage or ordinary + 1 <= cap
        if total_ok and ordinary_ok:
            return self.rule("yearly_cap", True, facts)
        if total_ok:
            facts += self.m["cap_ordinary_full"] % {"c": cap}
        return self.rule("yearly_cap", False, facts)

    def training_subsidy(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        occupation = claim.certificate.occupation_name
        if not policy.excludes_training_subsidy:
            return self.rule("training_subsidy", True, self.m["training_allowed"])
        for occupation_id, level_id, granted_on in self.facts.training.get(claim.person_id, []):
            if occupation_id == claim.occupation_id and level_id in (None, claim.level_id):
                return self.rule(
                    "training_subsidy",
                    False,
                    self.m["training_taken"] % {"d": granted_on, "o": occupation},
                )
        return self.rule("training_subsidy", True, self.m["training_ok"] % {"o": occupation})

    def calculation(self, claim: Claim, policy: SubsidyPolicy, shortage: bool) -> tuple[RuleResult, Calculation | None]:
        level = self.level_label(claim.level_id)
        base = self.book.amounts.get(policy.id, {}).get(claim.level_id)
        if base is None:
            return self.rule("amount", False, self.m["amount_missing"] % {"l": level}), None
        uplift = policy.shortage_uplift_percent if shortage else 0
        uncapped = (base * (100 + uplift) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        ceiling = policy.amount_ceiling
        amount = min(uncapped, ceiling) if ceiling is not None else uncapped
        text = self.m["calc_base"] % {"b": yuan(base), "l": level}
        if uplift:
            text += self.m["calc_uplift"] % {"u": uplift, "x": yuan(uncapped)}
        elif shortage:
            text += self.m["calc_no_uplift"]
        if ceiling is not None:
            text += self.m["calc_ceiling"] % {"c": yuan(ceiling)}
        text += self.m["calc_result"] % {"a": yuan(amount)}
        calc = Calculation(base, uplift, shortage, uncapped, ceiling, amount, text)
        return self.rule("amount", True, self.m["amount_ok"] % {"l": level, "b": yuan(base)}), calc

    # The decision ---------------------------------------------------------------------------------------

    def decide(self, claim: Claim) -> Decision:
        cert = claim.certificate
        policy, basis_date = self.book.select(claim.region.code, claim.claimed_on, cert.issued_on)
        others = self.others(claim)
        rules = [self.certificate(claim)]
        if policy is None:
            why = self.m["policy_none"] % {"r": claim.region.name, "d": claim.claimed_on}
            lapsed = self.book.last_before(claim.region.code, claim.claimed_on)
            if lapsed is not None:
                why += self.m["policy_lapsed"] % {"n": lapsed.name, "e": lapsed.effective_to}
            rules.insert(0, self.rule("policy", False, why + self.m["policy_advice"]))
            rules.append(self.once(claim, others))
            return Decision(False, rules, self.today)
        how = (
            self.m["basis_issued"] % {"d": basis_date}
            if basis_date != claim.claimed_on
            else self.m["basis_claimed"] % {"d": basis_date}
        )
        rules.insert(
            0,
            self.rule(
                "policy",
                True,
                self.m["policy_found"]
                % {"n": policy.name, "r": policy.region.name, "f": policy.effective_from, "h": how}
                + self.m["policy_basis"] % {"b": policy.basis_label},
            ),
        )
        shortage = cert.occupation_id is not None and self.book.is_shortage(
            claim.region.code, cert.issued_on.year, cert.occupation_id
        )
        rules += [
            self.claim_window(claim, policy),
            self.group(claim, policy),
            self.insurance(claim, policy),
            self.job_fit(claim, policy),
            self.once(claim, others),
            self.elsewhere(claim, policy),
            self.no_lower(claim, policy, others),
            self.yearly_cap(claim, policy, others, shortage),
            self.training_subsidy(claim, policy),
        ]
        amount_rule, calc = self.calculation(claim, policy, shortage)
        rules.append(amount_rule)
        eligible = all(r.met for r in rules)
        return Decision(eligible, rules, self.today, policy, basis_date, shortage, calc)


@dataclass
class Assessor:
    """Reusable across calls in one request or job: the policy book is read once."""

    book: PolicyBook = field(default_factory=PolicyBook.load)

    def assess(self, claims: Sequence[Claim], *, today: datetime.date) -> list[Decision]:
        facts = Facts(c.person_id for c in claims)
        evaluator = _Evaluator(self.book, facts, today)
        return [evaluator.decide(c) for c in claims]


def assess(
    claims: Sequence[Claim], *, today: datetime.date | None = None, book: PolicyBook | None = None
) -> list[Decision]:
    """The decision for each claim, in order. Claims need certificate, region and level loaded (select_related)."""
    from django.utils import timezone

    return Assessor(book or PolicyBook.load()).assess(claims, today=today or timezone.localdate())
