"""The one place that decides whether the catalogue lets an occupation be filed or assessed on a given day.

Filing scopes (accreditation.rules), plans (accreditation.selectors.scope_allows) and the catalogue-change
preview all ask here, so a dated change (cancelled from 1 March, 准入类 → 水平评价类 from 1 July) takes effect
everywhere on the same day and not before.
"""

import datetime

from django.utils.translation import gettext as _

from .models import Occupation, Qualification


def qualification_problems(qual: Qualification | None, on: datetime.date) -> list[str]:
    """Why the catalogue entry behind an occupation forbids level evaluation on `on` (empty when it does not)."""
    if qual is None:
        return []
    if qual.is_cancelled_on(on):
        state = _("已移出目录") if qual.status == Qualification.Status.REMOVED else _("已取消")
        basis = qual.cancellation_basis or _("无文件依据记录")
        when = qual.cancelled_on.isoformat() if qual.cancelled_on else ""
        return [
            _("“%(name)s”%(when)s%(state)s(%(basis)s),不得开展认定或变相恢复")
            % {"name": qual.name, "when": f"自{when}起" if when else "", "state": state, "basis": basis}
        ]
    if qual.kind_on(on) == Qualification.Kind.ACCESS:
        return [
            _("“%(name)s”属准入类职业资格,由%(authority)s依法实施,不得作为职业技能等级认定")
            % {"name": qual.name, "authority": qual.authority or _("主管部门")}
        ]
    return []


def occupation_problems(occupation: Occupation, on: datetime.date) -> list[str]:
    return qualification_problems(occupation.qualification, on)
