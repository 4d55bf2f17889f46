"""Score sheets as xlsx: the blank sheet for a component and the all-or-nothing import of marks."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from core.errors import ValidationFailed
from core.spreadsheets import Column, ImportReport, RowError, export_workbook, read_rows
from occupations.levels import level_spellings

from ..examday.selectors import present_ids
from ..integrity.services import integrity_require
from ..models import Plan, Registration, Score
from .access import assessor_seat, require_scoring_open
from .rules import ABSENT, KIND_LABELS, SCORED, VOID
from .services import (
    MarkEntry,
    candidates_for,
    clean_entry,
    locked_ids,
    require_not_submitted,
    save_entries,
)

# --- Score sheets (xlsx) -------------------------------------------------------------------------------------

SCORE_COLUMNS = [
    Column("id_number", "证件号码", example="220102199501012238"),
    Column("name", "姓名", required=False, example="张伟"),
    Column("level", "申报等级", example="四级/中级工"),
    Column("score", "成绩", example="85.5"),
]
NON_SCORE_WORDS = {"缺考": ABSENT, "作弊": VOID, "违纪": VOID}
_WORD_FOR = {ABSENT: "缺考", VOID: "作弊"}
_COLUMN_OF = {"value": "成绩", "status": "成绩", "registration_id": "证件号码"}


def _level_lookup(plan: Plan) -> dict[str, int]:
    return {spelling: lv.id for spelling, lv in level_spellings(plan.levels.all()).items()}


def score_sheet_workbook(*, actor: Actor, plan_id: int, kind: str) -> bytes:
    """The assessor's own sheet as xlsx: the candidates, filled with the marks saved so far."""
    plan, appointment = assessor_seat(actor, plan_id, kind, lock=False)
    mine = {
        s.registration_id: s for s in Score.objects.filter(registration__plan=plan, kind=kind, assessor=appointment)
    }
    rows = []
    for reg in candidates_for(plan, kind):
        s = mine.get(reg.id)
        value = "" if s is None else (s.value if s.status == SCORED else _WORD_FOR[s.status])
        rows.append([reg.person.id_number, reg.person.name, reg.level.label, value])
    return export_workbook([c.header for c in SCORE_COLUMNS], rows, KIND_LABELS[kind])


def scores_import(*, actor: Actor, plan_id: int, kind: str, upload) -> ImportReport:
    """The assessor's marks from a spreadsheet (证件号码, 申报等级, 成绩 as a number or 缺考/作弊), through the same
    rules as score_enter. All rows are saved or, if any row is wrong, none; every bad row is reported."""
    assessor_seat(actor, plan_id, kind, lock=False)  # refuse outsiders before reading their file
    rows = read_rows(upload, SCORE_COLUMNS)
    if not rows:
        raise ValidationFailed(_("表格中没有成绩行"))
    report = ImportReport(total=len(rows))
    with transaction.atomic():
        plan, appointment = assessor_seat(actor, plan_id, kind, lock=True)
        require_scoring_open(plan, kind)
        require_not_submitted(plan, kind, appointment)
        integrity_require(plan, step="score.import", kinds=[kind])
        candidates = {r.id: r for r in candidates_for(plan, kind)}
        by_key = {(r.person.id_number.upper(), r.level_id): r for r in candidates.values()}
        levels = _level_lookup(plan)
        locked, seen, clean, present = locked_ids(plan, kind), set(), [], present_ids(plan, kind)
        for number, record in rows:
            try:
                clean.append(_import_row(record, candidates, by_key, levels, locked, seen, present))
            except ValidationFailed as exc:
                column = exc.details.get("column") or _COLUMN_OF.get(exc.details.get("field", ""), "")
                report.errors.append(RowError(number, exc.message, column))
        if report.errors:
            return report
        save_entries(actor, plan, kind, appointment, clean, "score.import")
        report.created = len(clean)
    return report


def _import_row(
    record: dict,
    candidates: dict[int, Registration],
    by_key: dict[tuple[str, int], Registration],
    levels: dict[str, int],
    locked: set[int],
    seen: set[int],
    present: set[int],
) -> MarkEntry:
    raw_id = record.get("id_number")
    id_number = str(int(raw_id) if isinstance(raw_id, float) and raw_id.is_integer() else raw_id or "").strip().upper()
    if not id_number:
        raise ValidationFailed(_("证件号码为空"), details={"column": "证件号码"})
    level_id = levels.get(str(record.get("level") or "").strip())
    if level_id is None:
        raise ValidationFailed(
            _("申报等级“%(v)s”不是本计划的等级") % {"v": record.get("level") or ""}, details={"column": "申报等级"}
        )
    reg = by_key.get((id_number, level_id))
    if reg is None:
        raise ValidationFailed(_("该证件号码与申报等级不在本科目考生名单中"), details={"column": "证件号码"})
    name = str(record.get("name") or "").strip()
    if name and name != reg.person.name:
        raise ValidationFailed(_("姓名“%(n)s”与证件号码不符") % {"n": name}, details={"column": "姓名"})
    raw = record.get("score")
    word = NON_SCORE_WORDS.get(str(raw).strip()) if isinstance(raw, str) else None
    entry = {"registration_id": reg.id, "status": word} if word else {"registration_id": reg.id, "value": raw}
    return clean_entry(entry, candidates, locked, seen, present)
