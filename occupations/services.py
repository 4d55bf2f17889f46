"""Loading reference data from occupations/data/. Idempotent: a second run changes nothing.

Existing rows are left as the operator edited them unless `update=True`, so re-running the loader after an
upgrade adds new reference data without undoing corrections made in the admin.
"""

import datetime
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from core.audit import audit_record
from core.signals import certificate_facts_changed

from .models import (
    CatalogueChange,
    EquivalenceRule,
    Level,
    LicensingOverlap,
    Occupation,
    Qualification,
    Region,
    Standard,
    StandardLevel,
)

DATA_DIR = Path(__file__).resolve().parent / "data"


# What a confirmed catalogue change (occupations.changes) writes on a qualification.
DATED_FIELDS = ("status", "kind", "cancelled_on", "cancellation_basis", "evaluation_from")


def _read(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _upsert(model, counts: Counter, update: bool, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        counts[f"{model.__name__}.created"] += 1
        return obj
    if update:
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        if changed:
            for k in changed:
                setattr(obj, k, values[k])
            obj.save(update_fields=changed)
            counts[f"{model.__name__}.updated"] += 1
    return obj


@transaction.atomic
def reference_load(*, update: bool = False, actor=None) -> Counter:
    counts: Counter = Counter()

    regions = _read("regions.json")["regions"]
    by_code: dict[str, Region] = {}
    for r in regions:  # parents come before children in the file
        parent = by_code.get(r["parent"]) if r["parent"] else None
        if r["parent"] and parent is None:
            parent = Region.objects.get(code=r["parent"])
        by_code[r["code"]] = _upsert(
            Region,
            counts,
            update,
            {"code": r["code"]},
            {"name": r["name"], "kind": r["kind"], "parent": parent},
        )

    for lv in _read("levels.json")["levels"]:
        level = Level(**lv)
        level.clean()  # a number format that cannot write or read numbers must never reach issuance
        _upsert(Level, counts, update, {"code": lv["code"]}, {k: v for k, v in lv.items() if k != "code"})

    for q in _read("catalogue.json")["qualifications"]:
        values = {k: v for k, v in q.items() if k not in ("name", "scope")}
        if values.get("cancelled_on"):
            values["cancelled_on"] = datetime.date.fromisoformat(values["cancelled_on"])
        confirmed = CatalogueChange.objects.filter(
            qualification__name=q["name"], qualification__scope=q["scope"], status=CatalogueChange.Status.CONFIRMED
        )
        if update and confirmed.exists():
            # A change confirmed on the platform is newer than the file: `--update` must not undo a cancellation.
            values = {k: v for k, v in values.items() if k not in DATED_FIELDS}
        _upsert(Qualification, counts, update, {"name": q["name"], "scope": q["scope"]}, values)

    occ_data = _read("occupations.json")
    for o in occ_data["occupations"]:
        qual = Qualification.objects.get(name=o["qualification"], scope="") if o.get("qualification") else None
        _upsert(Occupation, counts, update, {"code": o["code"]}, {"name": o["name"], "qualification": qual})
    for ov in occ_data["licensing_overlaps"]:
        _upsert(
            LicensingOverlap,
            counts,
            update,
            {
                "occupation": Occupation.objects.get(code=ov["occupation"]),
                "qualification": Qualification.objects.get(name=ov["qualification"], scope=""),
            },
            {"note": ov["note"]},
        )

    tmpl = _read("eligibility_templates.json")
    levels = {lv.code: lv for lv in Level.objects.all()}
    for s in _read("standards.json")["standards"]:
        standard = _upsert(
            Standard,
            counts,
            update,
            {"occupation": Occupation.objects.get(code=s["occupation"]), "edition_year": s["edition_year"]},
            {
                "title": s["title"],
                "template": s["template"],
                "effective_from": datetime.date.fromisoformat(s["effective_from"]),
            },
        )
        for code in s["levels"]:
            _upsert(
                StandardLevel,
                counts,
                update,
                {"standard": standard, "level": levels[code]},
                {
                    "components": tmpl["components"][code],
                    "staffing": tmpl.get("staffing_by_level", {}).get(code, tmpl["staffing"]),
                    "eligibility": tmpl["templates"][s["template"]][code],
                },
            )

    for rule in _read("equivalence.json")["rules"]:
        values = {k: v for k, v in rule.items() if k not in ("code", "source_level", "target_level")}
        values["effective_from"] = datetime.date.fromisoformat(rule["effective_from"])
        if rule.get("effective_to"):
            values["effective_to"] = datetime.date.fromisoformat(rule["effective_to"])
        values["min_years"] = Decimal(str(rule.get("min_years", "0")))
        values["source_level"] = levels.get(rule["source_level"]) if rule.get("source_level") else None
        values["target_level"] = levels.get(rule["target_level"]) if rule.get("target_level") else None
        _upsert(EquivalenceRule, counts, update, {"code": rule["code"]}, values)

    if counts:
        audit_record(
            actor=actor,
            action="reference.load",
            object_type="reference",
            object_id="data",
            after=dict(sorted(counts.items())),
        )
    if any(counts[f"{model.__name__}.updated"] for model in (Level, Qualification, Occupation)):
        # Read with every verified certificate (the level's label, the catalogue note) and remembered by the web
        # nodes (certificates.verification_cache): like an admin edit, an update must reach them.
        certificate_facts_changed.send(sender=Occupation)
    return counts
