"""The audit log: the only writer of AuditEntry, and the chain verifier.

Services call `audit_record()` inside their transaction, so an entry exists exactly when the change does.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from .context import current_request_id
from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, FieldFile):  # a file or image field (an admin edit of a photo): its stored name
            return o.name or ""
        return super().default(o)


def _plain(value: Any) -> Any:
    """JSON-normalise, so that what is hashed is exactly what the database gives back."""
    return json.loads(json.dumps(value, cls=_Encoder, ensure_ascii=False))


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """The named fields of `obj` as plain JSON values (foreign keys by id)."""
    data = {}
    for name in fields:
        field = obj._meta.get_field(name)
        data[name] = getattr(obj, field.attname)
    return _plain(data)


def _entry_hash(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": entry.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_label,
        "action": entry.action,
        "object": [entry.object_type, entry.object_id],
        "region": entry.region_code,
        "organisation": entry.organisation_id,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "request_id": entry.request_id,
        "prev": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    region_code: str = "",
    organisation_id: int | None = None,
) -> AuditEntry:
    """Append one entry. `actor` is an accounts.actors.Actor (or None for the system)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:  # created by a migration; recreated only if the table was emptied (test flushes)
            AuditHead.objects.get_or_create(pk=1)
            head = AuditHead.objects.select_for_update().get(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=getattr(actor, "user", None),
            actor_label=getattr(actor, "label", None) or "system",
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            region_code=region_code,
            organisation_id=organisation_id,
            before=_plain(before) if before is not None else None,
            after=_plain(after) if after is not None else None,
            reason=reason or "",
            request_id=current_request_id(),
            prev_hash=head.hash,
        )
        entry.hash = _entry_hash(entry)
        entry.save()
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None


def audit_verify() -> ChainReport:
    """Walk the chain: consecutive numbers, each hash recomputed, each link to the previous, and the head."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return ChainReport(False, checked, f"entry #{expected_seq} is missing", expected_seq)
        if entry.prev_hash != prev_hash:
            return ChainReport(False, checked, f"entry #{entry.seq} does not link to its predecessor", entry.seq)
        if _entry_hash(entry) != entry.hash:
            return ChainReport(False, checked, f"entry #{entry.seq} was altered", entry.seq)
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return ChainReport(False, checked, f"the last {head.seq - expected_seq + 1} entries were removed", head.seq)
    return ChainReport(True, checked)
