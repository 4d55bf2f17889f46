"""Loading the seed policies from subsidies/data/policies.json. Idempotent: a second run changes nothing.

Rows an operator corrected in the admin are kept unless `update=True` overwrites them from the file, as
occupations' reference loader does. Runs after `load_reference` (it needs regions, levels and occupations).
"""

import datetime
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.audit import audit_record
from core.errors import ValidationFailed
from occupations.models import Level, Occupation, Region

from .models import PolicyAmount, ShortageOccupation, SubsidyPolicy

DATA_FILE = Path(__file__).resolve().parent / "data" / "policies.json"
# The demo's continuation for 2026: no such document exists; every page marks these versions as demonstrations.
DEMO_FILE = Path(__file__).resolve().parent / "data" / "demo_policies.json"
POLICY_FIELDS = (
    "name",
    "version_basis",
    "claim_window_months",
    "insurance_months_required",
    "accepts_unemployment_benefit",
    "excluded_groups",
    "yearly_cap",
    "yearly_cap_shortage_extra",
    "shortage_uplift_percent",
    "basis",
    "document_number",
    "is_demonstration",
    "lapse_warning_days",
    "no_lower_if_holding_higher",
    "counts_military_service",
    "checks_other_regions",
    "job_fit_source",
    "job_fit_match",
    "ss_card_default_account",
    "notes",
)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationFailed(_("地区代码%(c)s不存在,请先运行 load_reference") % {"c": code})
    return region


@transaction.atomic
def policies_load(*, update: bool = False, actor: Actor | None = None, path: Path = DATA_FILE) -> Counter:
    data = json.loads(path.read_text(encoding="utf-8"))
    counts: Counter = Counter()
    levels = {lv.code: lv for lv in Level.objects.all()}
    occupations = {o.code: o for o in Occupation.objects.all()}
    for entry in data["policies"]:
        values = {k: entry[k] for k in POLICY_FIELDS if k in entry}
        values["region"] = _region(entry["region"])
        values["effective_from"] = _date(entry["effective_from"])
        values["effective_to"] = _date(entry.get("effective_to"))
        values["document_date"] = _date(entry.get("document_date"))
        ceiling = entry.get("amount_ceiling")
        values["amount_ceiling"] = Decimal(str(ceiling)) if ceiling is not None else None
        policy = SubsidyPolicy.objects.filter(code=entry["code"]).first()
        if policy is None:
            policy = SubsidyPolicy(code=entry["code"], **values)
            policy.full_clean()
            policy.save()
            counts["SubsidyPolicy.created"] += 1
        elif update:
            changed = [k for k, v in values.items() if getattr(policy, k) != v]
            for k in changed:
                setattr(policy, k, values[k])
            if changed:
                policy.full_clean()
                policy.save(update_fields=changed)
                counts["SubsidyPolicy.updated"] += 1
        for level_code, amount in entry["amounts"].items():
            amount = Decimal(str(amount))
            row = PolicyAmount.objects.filter(policy=policy, level=levels[level_code]).first()
            if row is None:
                PolicyAmount.objects.create(policy=policy, level=levels[level_code], amount=amount)
                counts["PolicyAmount.created"] += 1
            elif update and row.amount != amount:
                row.amount = amount
                row.save(update_fields=["amount"])
                counts["PolicyAmount.updated"] += 1
    for entry in data.get("shortage_lists", []):
        region = _region(entry["region"])
        for code in entry["occupations"]:
            _row, created = ShortageOccupation.objects.get_or_create(
                region=region,
                year=entry["year"],
                occupation=occupations[code],
                defaults={"source": entry.get("source", "")},
            )
            if created:
                counts["ShortageOccupation.created"] += 1
    if counts:
        audit_record(
            actor=actor or Actor.platform(),
            action="subsidy_policy.load",
            object_type="subsidies.subsidypolicy",
            after=dict(counts),
        )
    return counts
