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
                      meets the rule but is marked unverified, for the reviewing officer
    once              no other live claim for the same occupation × level (the database enforces it too)
    no_lower          no granted claim for a higher level of the same occupation
    yearly_cap        granted claims in the claim's calendar year stay within the cap: at most `yearly_cap`
                      claims for ordinary occupations, plus `yearly_cap_shortage_extra` for shortage ones
    training_subsidy  no 职业培训补贴 received for the same occupation (and level, where the record has one)
    amount            the policy has an amount for the level

The amount is the level's base, raised by the policy's shortage uplift when the occupation is on the region's
急需紧缺 list for the year the certificate was issued, capped at the policy's per-claim ceiling, rounded to the
yuan. "Granted" means approved, in payment or paid: pending claims are shown but do not use up a limit, so the
limit is checked again, under a lock on the person, when a claim is approved.
"""

import calendar
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from occupations.models import Level, Region

from .models import Claim, InsuranceRecord, PolicyAmount, ShortageOccupation, SubsidyPolicy, TrainingSubsidyRecord

CHUNK = 2000
GRANTED = frozenset(Claim.GRANTED)
CLOSED = frozenset(Claim.CLOSED)
CATEGORY_LABELS = dict(Claim.Category.choices)
STATUS_LABELS = dict(Claim.Status.choices)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; 31 January + 1 month is the last day of February."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


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

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "met": self.met, "facts": self.facts, "verified": self.verified}


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
                "version_basis": self.policy.version_basis,
                "basis_date": self.basis_date.isoformat() if self.basis_date else None,
            }
        return {
            "eligible": self.eligible,
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
    ):
        self.policies = policies
        self.amounts = amounts
        self.shortage = shortage
        self.levels = levels
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
        return cls(policies, dict(amounts), shortage, {lv.id: lv for lv in Level.objects.all()})

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
        for chunk in _chunks(sorted(set(person_ids)), CHUNK):
            records = InsuranceRecord.objects.filter(person_id__in=chunk).order_by("as_of")
            for person_id, months, as_of, benefit, source in records.values_list(
                "person_id", "months", "as_of", "receives_unemployment_benefit", "source"
            ):
                self.insurance[person_id].append(Insurance(months, as_of, benefit, source))
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
    "once": _lazy("同一职业同一等级只享受一次"),
    "no_lower": _lazy("不得申领低于已享受等级的补贴"),
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
    "basis_issued": _lazy("按发证日期%(d)s确定版本"),
    "basis_claimed": _lazy("按申请日期%(d)s确定版本"),
    "policy_found": _lazy("《%(n)s》(%(r)s,%(f)s起施行);%(h)s"),
}


class _Evaluator:
    def __init__(self, book: PolicyBook, facts: Facts, today: datetime.date):
        self.book, self.facts, self.today = book, facts, today
        self.labels = {code: str(label) for code, label in RULE_LABELS.items()}
        self.m = {key: str(text) for key, text in MESSAGES.items()}

    def rule(self, code: str, met: bool, facts: str, verified: bool = True) -> RuleResult:
        return RuleResult(code, self.labels[code], met, facts, verified)

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

    def insurance(self, claim: Claim, policy: SubsidyPolicy) -> RuleResult:
        need = policy.insurance_months_required
        record = _insurance_at(self.facts.insurance.get(claim.person_id, []), claim.claimed_on)
        if record is not None:
            where = self.m["insured_record"] % {"d": record.as_of, "m": record.months}
            if policy.accepts_unemployment_benefit and record.benefit:
                return self.rule("insurance", True, self.m["benefit_record"] % {"d": record.as_of})
            if record.months >= need:
                return self.rule("insurance", True, self.m["insured_enough"] % {"w": where, "n": need})
            return self.rule("insurance", False, self.m["insured_short"] % {"w": where, "n": need})
        if policy.accepts_unemployment_benefit and claim.category == Claim.Category.UNEMPLOYED:
            return self.rule("insurance", True, self.m["benefit_declared"], verified=False)
        declared = claim.insurance_months_declared
        if declared is None:
            return self.rule("insurance", False, self.m["insured_unknown"] % {"n": need})
        if declared >= need:
            return self.rule(
                "insurance",
                True,
                self.m["declared_enough"] % {"m": declared, "n": need},
                verified=False,
            )
        return self.rule("insurance", False, self.m["declared_short"] % {"m": declared, "n": need})

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

    def no_lower(self, claim: Claim, others: list[OtherClaim]) -> RuleResult:
        rank = self.book.levels[claim.level_id].rank
        higher = [
            o
            for o in others
            if o.status in GRANTED
            and o.occupation_id == claim.occupation_id
            and self.book.levels[o.level_id].rank > rank
        ]
        occupation = claim.certificate.occupation_name
        if higher:
            return self.rule(
                "no_lower",
                False,
                self.m["lower_refused"]
                % {"o": occupation, "l": self.level_label(higher[0].level_id), "id": higher[0].id},
            )
        return self.rule("no_lower", True, self.m["lower_ok"] % {"o": occupation})

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
            rules.insert(
                0,
                self.rule(
                    "policy",
                    False,
                    self.m["policy_none"] % {"r": claim.region.name, "d": claim.claimed_on},
                ),
            )
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
                % {"n": policy.name, "r": policy.region.name, "f": policy.effective_from, "h": how},
            ),
        )
        shortage = cert.occupation_id is not None and self.book.is_shortage(
            claim.region.code, cert.issued_on.year, cert.occupation_id
        )
        rules += [
            self.claim_window(claim, policy),
            self.group(claim, policy),
            self.insurance(claim, policy),
            self.once(claim, others),
            self.no_lower(claim, others),
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
