"""The employer-assesses-its-own-staff rule as a pure decision over facts gathered by `services`."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

RULE_CODE = "employer_own_staff"


@dataclass(frozen=True)
class EmploymentDecision:
    """`status` is what the registration records: "" (not an employer's plan), "insured", "proof", "accepted"
    (the bureau accepted an outsider), "review" (waiting for the bureau) or "refused"."""

    status: str
    ok: bool
    explanation: str


def decide(
    *,
    employer_plan: bool,
    person_name: str,
    employer_name: str,
    insured: list[str],
    proofs: list[str],
    bureau_status: str,
    mode: str,
) -> EmploymentDecision:
    """Insurance first, then an uploaded document, then the bureau's word; otherwise the region's mode says
    whether the registration is refused ("refuse") or waits for the bureau ("review")."""
    if not employer_plan:
        return EmploymentDecision("", True, "")
    if insured:
        return EmploymentDecision("insured", True, _("本单位参保记录:%(r)s") % {"r": ";".join(insured)})
    if proofs:
        return EmploymentDecision("proof", True, _("已上传:%(r)s") % {"r": ";".join(proofs)})
    missing = _("未查到%(name)s在“%(org)s”的参保记录,也未上传劳动合同或劳务派遣、实习协议") % {
        "name": person_name,
        "org": employer_name,
    }
    if bureau_status == "accepted":
        return EmploymentDecision("accepted", True, _("%(m)s;人社部门已审核认可") % {"m": missing})
    if bureau_status == "refused":
        return EmploymentDecision("refused", False, _("%(m)s;人社部门审核不予认可") % {"m": missing})
    if mode == "review":
        return EmploymentDecision("review", False, _("%(m)s,已送人社部门审核") % {"m": missing})
    return EmploymentDecision("refused", False, missing)
