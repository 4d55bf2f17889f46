"""Loading reference data from occupations/data/. Idempotent: a second run changes nothing.

Existing rows are left as the operator edited them unless `update=True`, so re-running the loader after an
upgrade adds new reference data without undoing corrections made in the admin. Fields a row lacks (the pinyin
initials, the 小类 of an occupation typed by hand) are filled in either way.

The national extracts (dadian_2022.csv: 大典 2022 and later announcements; gbt2260.csv: provinces, prefectures,
counties) are read with bulk queries: ~5,400 rows in well under a second once loaded. With `update=True` a newer
extract renames what was renamed and retires (never deletes) what disappeared; the result lists each change and
how many rows of the platform still refer to it, since certificates, filings and standards keep pointing at it.
"""

import csv
import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.signals import certificate_facts_changed

from .models import (
    CURRENT_EDITION,
    CatalogueChange,
    ClassificationEdition,
    EquivalenceRule,
    Level,
    LicensingOverlap,
    Occupation,
    OccupationCategory,
    OccupationCodeMapping,
    Qualification,
    Region,
    Standard,
    StandardLevel,
    WorkType,
)
from .search import initials_of

DATA_DIR = Path(__file__).resolve().parent / "data"


# What a confirmed catalogue change (occupations.changes) writes on a qualification.
DATED_FIELDS = ("status", "kind", "cancelled_on", "cancellation_basis", "evaluation_from")

REGION_EDITION = "2022-10"
REGION_SOURCE = "国家统计局统计用区划代码(2022-10-31),与GB/T 2260六位代码一致"
REGION_KINDS = {"省级": Region.Kind.PROVINCE, "地级": Region.Kind.CITY, "县级": Region.Kind.COUNTY}
# Statistical groupings, not divisions: their counties hang directly from the province.
REGION_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
CATEGORY_KINDS = {"大类": OccupationCategory.Kind.MAJOR, "中类": OccupationCategory.Kind.MIDDLE, "小类": "minor"}


@dataclass
class Change:
    """One row a newer extract changed: what it was, what it is, and how many records still refer to it."""

    what: str  # added / renamed / retired / restored
    model: str
    code: str
    name: str
    before: str = ""
    references: int = 0

    def __str__(self) -> str:
        text = {
            "added": f"新增 {self.code} {self.name}",
            "renamed": f"更名 {self.code} {self.before} → {self.name}",
            "retired": f"停用 {self.code} {self.name}",
            "restored": f"恢复 {self.code} {self.name}",
        }[self.what]
        return text + (f"(仍有{self.references}条记录引用,保持不变)" if self.references else "")


class LoadResult(Counter):
    """Counts per model and action (compares equal to {} when nothing changed), plus the changes themselves."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.changes: list[Change] = []


def _read(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _read_csv(name: str) -> list[dict]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _references(obj) -> int:
    """How many rows elsewhere point at `obj` (certificates, filings, standards...), without importing them."""
    total = 0
    for rel in obj._meta.related_objects:
        if rel.many_to_many or rel.related_model is obj.__class__:
            continue
        total += rel.related_model._default_manager.filter(**{rel.field.name: obj}).count()
    return total


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


def _sync_coded(
    model, rows: list[dict], counts: LoadResult, update: bool, *, fill: tuple[str, ...], links: dict | None = None
) -> dict:
    """Create, fill in, update and (with `update`) retire rows identified by `code`; returns code → object.

    `rows` hold field values by name. A `parent` given as a code is this model's own tree (parents are created
    before their children); fields named in `links` are codes of rows already loaded (field → code → object).
    Fields in `fill` are written on existing rows when they are empty, even without `update`.
    """
    links = links or {}
    existing = {o.code: o for o in model.objects.all()}
    label = model.__name__
    depth: dict[str, int] = {}
    for r in rows:
        depth[r["code"]] = depth[r["parent"]] + 1 if r.get("parent") else 0
    first_load = not existing
    with_initials = any(f.name == "initials" for f in model._meta.fields)
    to_update: dict[str, set[str]] = {}
    for level in sorted(set(depth.values())):
        new = []
        for r in (r for r in rows if depth[r["code"]] == level):
            # Foreign keys by id, so that comparing an existing row never loads its parent.
            values = {k: v for k, v in r.items() if k != "code" and k != "parent" and k not in links}
            if "parent" in r:
                values["parent_id"] = existing[r["parent"]].pk if r["parent"] else None
            for field, objects in links.items():
                values[f"{field}_id"] = objects[r[field]].pk if r[field] else None
            obj = existing.get(r["code"])
            # Pinyin initials cost ~0.5 ms a name: only for new rows, rows without them, or a new name.
            if with_initials and (obj is None or not obj.initials or (update and obj.name != values["name"])):
                values["initials"] = initials_of(values["name"])
            if obj is None:
                obj = model(code=r["code"], **values)
                existing[r["code"]] = obj
                new.append(obj)
                continue
            changed = set()
            for k, v in values.items():
                current = getattr(obj, k)
                if current == v or not (update or (k in fill and current in ("", None))):
                    continue
                if k == "name":
                    counts.changes.append(Change("renamed", label, obj.code, v, before=current))
                if k == "active" and v:
                    counts.changes.append(Change("restored", label, obj.code, values["name"]))
                setattr(obj, k, v)
                changed.add(k)
            if changed:
                to_update.setdefault(obj.code, set()).update(changed)
        model.objects.bulk_create(new, batch_size=500)
        counts[f"{label}.created"] += len(new)
        if not first_load:
            counts.changes.extend(Change("added", label, o.code, o.name) for o in new)
    if to_update:
        objs = [existing[c] for c in to_update]
        model.objects.bulk_update(objs, sorted(set().union(*to_update.values())), batch_size=500)
        counts[f"{label}.updated"] += len(objs)
    if update:
        listed = {r["code"] for r in rows}
        retired = [o for code, o in existing.items() if code not in listed and o.active]
        retired_fields = ["active"]
        for o in retired:
            o.active = False
            if hasattr(o, "retired_on"):
                o.retired_on = timezone.localdate()
                retired_fields = ["active", "retired_on"]
            counts.changes.append(Change("retired", label, o.code, o.name, references=_references(o)))
        if retired:
            model.objects.bulk_update(retired, retired_fields)
            counts[f"{label}.retired"] += len(retired)
    for c in counts.changes:
        if c.model == label and c.what == "renamed":
            c.references = _references(existing[c.code])
    return existing


def _region_rows() -> list[dict]:
    rows = _read_csv("gbt2260.csv")
    placeholders = {
        r["code"]: r["parent_code"] for r in rows if r["level"] == "地级" and r["name"] in REGION_PLACEHOLDERS
    }
    out = []
    for r in rows:
        if r["code"] in placeholders:
            continue
        parent = placeholders.get(r["parent_code"], r["parent_code"]) or None
        out.append(
            {
                "code": r["code"],
                "name": r["name"],
                "kind": REGION_KINDS[r["level"]],
                "parent": parent,
                "edition": REGION_EDITION,
                "source": REGION_SOURCE,
                "active": True,
            }
        )
    extra = _read("regions.json")
    for r in extra["regions"]:
        out.append(
            {
                "code": r["code"],
                "name": r["name"],
                "kind": r["kind"],
                "parent": r["parent"],
                "edition": "",
                "source": extra["source"][:128],
                "active": True,
            }
        )
    return out


def _edition_on(editions: list[ClassificationEdition], day: datetime.date) -> str:
    """The 大典 edition in force on `day`: a standard published then prints that edition's codes."""
    return next((e.code for e in editions if e.published_on <= day), "")


def _announced_year(source: str) -> int | None:
    m = re.match(r"(\d{4})新职业", source)
    return int(m.group(1)) if m else None


def _classification_rows() -> tuple[list[dict], list[dict], list[dict]]:
    categories, occupations, work_types = [], [], []
    for r in _read_csv("dadian_2022.csv"):
        if r["level"] in CATEGORY_KINDS:
            categories.append(
                {
                    "code": r["code"],
                    "name": r["name"],
                    "kind": CATEGORY_KINDS[r["level"]],
                    "parent": r["parent_code"] or None,
                    "edition": CURRENT_EDITION,
                    "source": r["source_edition"],
                    "active": True,
                }
            )
        elif r["level"] == "细类":
            occupations.append(
                {
                    "code": r["code"],
                    "name": r["name"],
                    "category": r["parent_code"],
                    "edition": CURRENT_EDITION,
                    "source": r["source_edition"],
                    "announced_year": _announced_year(r["source_edition"]),
                    "active": True,
                }
            )
        elif r["level"] == "工种":
            work_types.append({"occupation": r["parent_code"], "name": r["name"], "source": r["source_edition"]})
    return categories, occupations, work_types


@transaction.atomic
def reference_load(*, update: bool = False, actor=None) -> LoadResult:
    counts = LoadResult()

    for e in _read("editions.json")["editions"]:
        values = {k: v for k, v in e.items() if k != "code"}
        values["published_on"] = datetime.date.fromisoformat(e["published_on"]) if e["published_on"] else None
        _upsert(ClassificationEdition, counts, update, {"code": e["code"]}, values)

    _sync_coded(Region, _region_rows(), counts, update, fill=("initials", "edition", "source"))

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
        qual = _upsert(Qualification, counts, update, {"name": q["name"], "scope": q["scope"]}, values)
        if not qual.source and values.get("source"):
            qual.source = values["source"]
            qual.save(update_fields=["source"])
            counts["Qualification.updated"] += 1

    category_rows, occupation_rows, work_type_rows = _classification_rows()
    categories = _sync_coded(OccupationCategory, category_rows, counts, update, fill=("source",))
    occupations = _sync_coded(
        Occupation,
        occupation_rows,
        counts,
        update,
        fill=("initials", "category_id", "source", "announced_year"),
        links={"category": categories},
    )
    known = set(WorkType.objects.values_list("occupation_id", "name"))
    new_types = []
    for w in work_type_rows:
        occupation = occupations[w["occupation"]]
        if (occupation.pk, w["name"]) not in known:
            known.add((occupation.pk, w["name"]))
            new_types.append(WorkType(occupation=occupation, name=w["name"], source=w["source"][:64]))
    WorkType.objects.bulk_create(new_types)
    counts["WorkType.created"] += len(new_types)

    occ_data = _read("occupations.json")
    for o in occ_data["occupations"]:
        # Names come from the 大典 extract; this file links occupations to catalogue entries.
        qual = Qualification.objects.get(name=o["qualification"], scope="") if o.get("qualification") else None
        occupation = occupations[o["code"]]
        missing = occupation.qualification_id is None and qual is not None
        if missing or (update and occupation.qualification_id != (qual.pk if qual else None)):
            occupation.qualification = qual
            occupation.save(update_fields=["qualification"])
            counts["Occupation.updated"] += 1
    if update:
        # A link the file no longer makes goes with --update: earlier data typed 消防设施操作员 under 4-07-05-04,
        # which the 2022 edition gives to 安全防范系统安装维护员.
        linked = {o["code"] for o in occ_data["occupations"] if o.get("qualification")}
        stale = Occupation.objects.exclude(qualification=None).exclude(code__in=linked)
        counts["Occupation.unlinked"] += stale.update(qualification=None)

    for m in _read_csv("code_mappings.csv"):
        _upsert(
            OccupationCodeMapping,
            counts,
            update,
            {"edition": m["edition"], "old_code": m["old_code"]},
            {
                "old_name": m["old_name"],
                "occupation": occupations[m["new_code"]],
                "relation": m["relation"],
                "basis": m["basis"],
            },
        )

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
    editions = list(ClassificationEdition.objects.exclude(published_on=None).order_by("-published_on"))
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
                "classification_edition": _edition_on(editions, datetime.date.fromisoformat(s["effective_from"])),
            },
        )
        if not standard.classification_edition:
            standard.classification_edition = _edition_on(editions, standard.effective_from)
            standard.save(update_fields=["classification_edition"])
            counts["Standard.updated"] += 1
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

    for key in [k for k, n in counts.items() if not n]:
        del counts[key]  # a run that changed nothing compares equal to {}
    if counts:
        audit_record(
            actor=actor,
            action="reference.load",
            object_type="reference",
            object_id="data",
            after=dict(sorted(counts.items())),
        )
    if counts["Occupation.unlinked"] or any(
        counts[f"{model.__name__}.updated"] for model in (Level, Qualification, Occupation)
    ):
        # Read with every verified certificate (the level's label, the catalogue note) and remembered by the web
        # nodes (certificates.verification_cache): like an admin edit, an update must reach them.
        certificate_facts_changed.send(sender=Occupation)
    return counts
