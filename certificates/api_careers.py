"""The worker's career paths (贯通) as JSON: the same computation as the page (certificates/careers.py)."""

import datetime

from ninja import Router, Schema

from .careers import my_pathways

router = Router(tags=["careers"])


class PathwayOut(Schema):
    target: str
    rule_code: str
    rule_label: str
    basis: str
    eligible_from: datetime.date
    eligible_now: bool
    explanation: str
    certificate_number: str
    certificate_label: str
    certificate_issued_on: datetime.date
    certificate_imported: bool
    rule_effective_from: datetime.date
    rule_effective_to: datetime.date | None


@router.get("/mine", response=list[PathwayOut], summary="本人证书可申报的职称评审(技能等级与职称贯通)")
def career_mine(request):
    return [p.as_dict() for p in my_pathways(request.auth)]
