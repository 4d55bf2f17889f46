import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _employment_records(sender, person, organisation, on: datetime.date, **kwargs) -> list[str]:
    """assessments.signals.employment_records: the insurance records (参保记录) that show `person` insured by
    `organisation` in the month of `on`, matched by ID number and the employer's credit code."""
    from django.db.models import Q

    from .models import InsuranceRecord

    month = on.replace(day=1)
    records = (
        InsuranceRecord.objects.filter(
            id_number=person.id_number.upper(), employer_credit_code=organisation.credit_code, start_month__lte=on
        )
        .filter(Q(end_month__isnull=True) | Q(end_month__gte=month))
        .select_related("batch")
        .order_by("start_month")
    )
    return [
        str(_("%(employer)s 参保 %(start)s 起(参保数据截至%(to)s,导入批次%(batch)d)"))
        % {
            "employer": r.employer_name,
            "start": f"{r.start_month:%Y-%m}",
            "to": f"{r.batch.period_to:%Y-%m}",
            "batch": r.batch_id,
        }
        for r in records
    ]


def _evidence_holds(sender, plan_ids: set[int], **kwargs) -> set[int]:
    """assessments.signals.evidence_holds: plans an open complaint names, directly or through their organisation
    (an investigation of an organisation may need any of its sessions' evidence)."""
    from django.db.models import Q

    from assessments.models import Plan

    from .models import Complaint

    open_cases = Complaint.objects.filter(status__in=Complaint.OPEN)
    named = set(open_cases.filter(plan_id__in=plan_ids).values_list("plan_id", flat=True))
    organisations = open_cases.filter(organisation__isnull=False).values("organisation_id")
    through = Plan.objects.filter(Q(pk__in=plan_ids) & Q(organisation_id__in=organisations))
    return named | set(through.values_list("id", flat=True))


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("监督管理")

    def ready(self) -> None:
        from assessments.signals import employment_records, evidence_holds

        employment_records.connect(_employment_records, dispatch_uid="oversight-employment-records")
        evidence_holds.connect(_evidence_holds, dispatch_uid="oversight-evidence-holds")
