"""Keeping stored detections (挂证 flags, comeback findings) in step with a fresh scan.

A scan produces detections identified by a fingerprint. Against the stored rows of the same scope: a new one is
raised, one whose details changed is updated, a cleared one found again is reopened, an open one no longer found
is cleared. Rows a person has dealt with (investigating, dismissed) are left alone. Each step is audited.
"""

from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction


def reconcile(
    *,
    existing: dict,
    detections: Iterable,
    status,
    new_row: Callable,
    values: Callable[[object], dict],
    audit: Callable,
    state: Callable[[object], dict],
    report,
    clear_reason: str,
    action_prefix: str = "",
) -> None:
    """`existing`: fingerprint → stored row (locked by the caller); `new_row(detection, values)` builds an unsaved
    row; `audit(row, action, before, reason="")` records a step; `report` counts raised/updated/reopened/cleared."""
    seen = set()
    for detection in detections:
        if detection.fingerprint in seen:
            continue
        seen.add(detection.fingerprint)
        row = existing.get(detection.fingerprint)
        fields = values(detection)
        if row is None:
            row = new_row(detection, fields)
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue  # a concurrent scan raised it a moment ago
            audit(row, f"{action_prefix}raise", None)
            report.raised += 1
        elif row.status in (status.OPEN, status.CLEARED):
            changed = any(getattr(row, k) != v for k, v in fields.items())
            if row.status == status.OPEN and not changed:
                continue
            before = state(row)
            reopened = row.status == status.CLEARED
            row.status = status.OPEN
            for k, v in fields.items():
                setattr(row, k, v)
            row.save()
            audit(row, f"{action_prefix}{'reopen' if reopened else 'update'}", before)
            if reopened:
                report.reopened += 1
            else:
                report.updated += 1
    for fingerprint, row in existing.items():
        if fingerprint not in seen and row.status == status.OPEN:
            before = state(row)
            row.status = status.CLEARED
            row.save(update_fields=["status", "updated_at"])
            audit(row, f"{action_prefix}clear", before, reason=clear_reason)
            report.cleared += 1
