"""The rules that must hold while a plan is assessed, as small pure functions over facts gathered once.

Three families, each finding naming its rule and the record that triggered it:

- separation (考培分离 and recusal): a panel member or the supervisor trained a candidate, works for a candidate's
  training provider, declared a relationship with a candidate, or is a candidate;
- qualification: the member's registration is withdrawn or lapsed, belongs elsewhere, or does not reach the
  occupation or level (the rules of `assessments.panels`, re-read at every step);
- staffing: the panel of a component has fewer members than the standard's minimum, fewer than its ratio to the
  approved candidates asks, or an even number where the standard asks for an odd one.

A bureau may except one finding with a reason (`IntegrityException`, matched by `Finding.key`); everything else
blocks the step that depends on it.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..panels.rules import Refusal, Rule


class StaffRule:
    SIZE = "panel_size"
    RATIO = "panel_ratio"
    ODD = "panel_odd"


STAFFING_LABELS = {
    StaffRule.SIZE: gettext_lazy("考评组人数:标准规定的最少人数"),
    StaffRule.RATIO: gettext_lazy("考评组人数:考评人员与考生配比"),
    StaffRule.ODD: gettext_lazy("考评组人数:须为奇数"),
}

SEPARATION = frozenset({Rule.CANDIDATE, Rule.TRAINED, Rule.PROVIDER, Rule.RELATIONSHIP})
STAFFING = frozenset(STAFFING_LABELS)
SUPERVISOR = "supervisor"


def family(rule_code: str) -> str:
    if rule_code in SEPARATION:
        return "separation"
    if rule_code in STAFFING:
        return "staffing"
    return "qualification"


FAMILY_LABELS = {
    "separation": gettext_lazy("考培分离与回避"),
    "qualification": gettext_lazy("考评人员资格"),
    "staffing": gettext_lazy("考评组人数"),
}


@dataclass(frozen=True)
class Finding:
    """One rule that does not hold now, on one component's panel (or for the supervisor), and why."""

    rule_code: str
    rule_label: str
    kind: str  # a component kind, or "supervisor"
    kind_label: str
    explanation: str
    record: dict  # {"type": "training_record", "id": 12}
    appointment_id: int | None = None
    person_name: str = ""
    candidate_ids: tuple[int, ...] = field(default=())  # the candidates (person ids) the finding is about

    @property
    def key(self) -> tuple:
        return (self.rule_code, self.kind, self.appointment_id, self.record.get("type", ""), self.record.get("id"))

    @property
    def family(self) -> str:
        return family(self.rule_code)

    def sentence(self) -> str:
        return f"【{self.kind_label}·{self.rule_label}】{self.explanation}"

    def as_dict(self) -> dict:
        return {
            "rule_code": self.rule_code,
            "rule_label": self.rule_label,
            "family": self.family,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "explanation": self.explanation,
            "record": dict(self.record),
            "appointment_id": self.appointment_id,
            "person_name": self.person_name,
        }


def member_findings(
    kind: str,
    kind_label: str,
    appointment_id: int,
    person_name: str,
    refusals: Iterable[Refusal],
    candidates_of_record: dict[tuple[str, int], tuple[int, ...]],
) -> list[Finding]:
    """A panel member's (or the supervisor's) refusals as findings, each with the candidates its record concerns."""
    return [
        Finding(
            rule_code=r.rule_code,
            rule_label=r.rule_label,
            kind=kind,
            kind_label=kind_label,
            explanation=r.explanation,
            record=dict(r.record),
            appointment_id=appointment_id,
            person_name=person_name,
            candidate_ids=candidates_of_record.get((r.record.get("type", ""), r.record.get("id")), ()),
        )
        for r in refusals
    ]


@dataclass(frozen=True)
class Staffing:
    """What the standard asks of one component's panel, for the plan's levels, and what the panel has."""

    minimum: int
    per_candidates: int | None
    odd: bool
    candidates: int
    assigned: int


def staffing_from_rules(rules: Sequence[dict], candidates: int, assigned: int) -> Staffing:
    """The strictest of the levels' staffing rules ({"min", "per_candidates", "odd"}); a level with no rule asks
    for one person."""
    rules = list(rules) or [{}]
    minimum = max(int(r.get("min") or 1) for r in rules)
    ratios = [int(r["per_candidates"]) for r in rules if r.get("per_candidates")]
    return Staffing(
        minimum=minimum,
        per_candidates=min(ratios) if ratios else None,
        odd=any(bool(r.get("odd")) for r in rules),
        candidates=candidates,
        assigned=assigned,
    )


def staffing_findings(kind: str, kind_label: str, plan_id: int, s: Staffing) -> list[Finding]:
    """Size, ratio and odd number of one panel. Nothing is asked of a panel that has no candidate to judge."""
    if s.candidates == 0:
        return []
    record = {"type": "plan_panel", "id": plan_id}
    out = []

    def add(rule: str, text: str) -> None:
        out.append(Finding(rule, str(STAFFING_LABELS[rule]), kind, kind_label, text, record))

    if s.assigned < s.minimum:
        add(
            StaffRule.SIZE,
            _("“%(k)s”考评组按标准须至少%(min)d人,现有%(n)d人(计划%(plan)d)")
            % {"k": kind_label, "min": s.minimum, "n": s.assigned, "plan": plan_id},
        )
    if s.per_candidates:
        needed = math.ceil(s.candidates / s.per_candidates)
        if s.assigned < needed:
            add(
                StaffRule.RATIO,
                _("“%(k)s”考生%(c)d人,按每%(per)d名考生至少1名考评人员须至少%(need)d人,现有%(n)d人(计划%(plan)d)")
                % {
                    "k": kind_label,
                    "c": s.candidates,
                    "per": s.per_candidates,
                    "need": needed,
                    "n": s.assigned,
                    "plan": plan_id,
                },
            )
    if s.odd and s.assigned and s.assigned % 2 == 0:
        add(
            StaffRule.ODD,
            _("“%(k)s”考评组须为奇数,现有%(n)d人(计划%(plan)d)") % {"k": kind_label, "n": s.assigned, "plan": plan_id},
        )
    return out


def split_by_exceptions(findings: Iterable[Finding], excepted_keys: dict[tuple, object]) -> tuple[list, list]:
    """(open findings, [(finding, its exception)]): a finding is excepted only by an exception with its exact key."""
    open_, excepted = [], []
    for f in findings:
        exception = excepted_keys.get(f.key)
        if exception is None:
            open_.append(f)
        else:
            excepted.append((f, exception))
    return open_, excepted


def refusal_message(step_label: str, findings: Sequence[Finding]) -> str:
    """One sentence naming every rule that blocks the step and the record behind it."""
    return _("不能%(step)s:%(list)s") % {"step": step_label, "list": ";".join(f.sentence() for f in findings)}
