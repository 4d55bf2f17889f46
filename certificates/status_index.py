"""Random, unique positions in the credential status lists, for any number of certificates, also when several
issuances run at once.

A list holds a fixed number of positions (StatusList.capacity). Each new certificate goes to the open list (the
lowest-numbered one that is not full) at a position drawn at random from its capacity and not held yet; the unique
constraint on (status_list, status_index) is the final word. Two issuances that draw the same free position at the
same moment: on PostgreSQL the second insert waits for the first transaction and then fails on the constraint,
inside a savepoint, and its batch draws again
(tests/certificates/test_credentials.py::test_concurrent_issuances_that_draw_the_same_positions_both_succeed).

Once a list's `assigned` passes settings.STATUS_LIST_FILL of its capacity it is marked full and the next list opens.
Both happen just after the inserting transaction commits, in a short transaction of their own (_counted): nothing
in the issuing transaction locks a list's row, so issuances never wait on each other for this. Concurrent batches
may each find the list open and pass the threshold by a batch each, which the headroom between the threshold and
the capacity absorbs; a batch that would fill a list past HEADROOM spills into the next list.
"""

import secrets
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .ecert import identifier_for
from .models import Certificate, StatusList

ATTEMPTS = 8
DRAW_ROUNDS = 1000
HEADROOM = 0.95


def random_position(capacity: int) -> int:
    return secrets.randbelow(capacity)


def _draw(count: int, status_list: StatusList) -> list[int]:
    """`count` distinct positions in the list that no certificate holds right now."""
    chosen: set[int] = set()
    for _round in range(DRAW_ROUNDS):
        wanted = count - len(chosen)
        candidates = {random_position(status_list.capacity) for _ in range(wanted + 8)} - chosen
        taken = set(
            Certificate.objects.filter(status_list=status_list.number, status_index__in=candidates).values_list(
                "status_index", flat=True
            )
        )
        chosen.update(sorted(candidates - taken)[:wanted])
        if len(chosen) == count:
            break
    else:
        # Only if the list's count fell far behind (counts lost between a commit and _counted): stop, not hang.
        raise RuntimeError(f"status list {status_list.number} has no free positions left to draw")
    drawn = list(chosen)
    # sorted() above only picks which candidates to keep; the order handed out is random again.
    return [drawn.pop(secrets.randbelow(len(drawn))) for _ in range(count)]


def _is_position_clash(exc: IntegrityError) -> bool:
    return "status_index" in str(exc) or "uniq_certificate_status_position" in str(exc)


def _room(status_list: StatusList) -> int:
    """How many more a batch may put in the list: up to HEADROOM of its capacity, which keeps drawing a free
    position cheap even past the fill threshold (a batch larger than what is left of it spills into the next list)."""
    return int(status_list.capacity * HEADROOM) - status_list.assigned


def _open_next() -> StatusList:
    """A new list after the last one (list 0 on a database that has none)."""
    last = StatusList.objects.order_by("-number").values_list("number", flat=True).first()
    number = 0 if last is None else last + 1
    # Two may open the same next list at once: get_or_create lets the second find the first's.
    status_list, _created = StatusList.objects.get_or_create(
        number=number,
        defaults={
            "capacity": settings.STATUS_LIST_CAPACITY,
            # Rows made outside this module (the field defaults put them in list 0) count too.
            "assigned": Certificate.objects.filter(status_list=number).count(),
        },
    )
    return status_list


def open_status_list() -> StatusList:
    """The list new certificates go to: the lowest-numbered one that is not full. One is opened here only on a
    database that has none (or if the count that would have opened it was lost); otherwise _counted opens it."""
    current = StatusList.objects.filter(full_at__isnull=True).order_by("number").first()
    return current if current is not None else _open_next()


def _counted(number: int, added: int) -> None:
    """After the certificates' transaction has committed, in a short transaction of its own: add them to the list's
    count and, past the threshold, mark it full and open the next. Issuances also lock the audit chain's head, some
    before inserting certificates (an import creates people first), some after (issuance): a list row locked
    inside their transactions would deadlock the two kinds."""
    with transaction.atomic():
        StatusList.objects.filter(pk=number).update(assigned=F("assigned") + added)
        _close_if_full(StatusList.objects.get(pk=number))


def _close_if_full(status_list: StatusList) -> None:
    """Past settings.STATUS_LIST_FILL of its capacity a list is marked full, and the next one opens if none is open.
    Inside the caller's transaction."""
    if status_list.full_at is None and status_list.assigned >= status_list.capacity * settings.STATUS_LIST_FILL:
        StatusList.objects.filter(pk=status_list.number).update(full_at=timezone.now())
        if not StatusList.objects.filter(full_at__isnull=True).exists():
            _open_next()


def status_lists_recount() -> dict[int, int]:
    """Each open list's count set again from its certificates, and the threshold applied as _counted does: a count
    lost when a process died between a commit and _counted is made good here (run hourly by beat). The count
    reads the (status_list, status_index) unique index only."""
    recounted = {}
    for number in StatusList.objects.filter(full_at__isnull=True).order_by("number").values_list("number", flat=True):
        with transaction.atomic():
            status_list = StatusList.objects.select_for_update().get(pk=number)
            status_list.assigned = Certificate.objects.filter(status_list=number).count()
            status_list.save(update_fields=["assigned"])
            _close_if_full(status_list)
        recounted[number] = status_list.assigned
    return recounted


def _insert_into(certs: Sequence[Certificate], status_list: StatusList, batch_size: int | None) -> None:
    for attempt in range(ATTEMPTS):
        for cert, position in zip(certs, _draw(len(certs), status_list), strict=True):
            cert.status_list, cert.status_index = status_list.number, position
        try:
            with transaction.atomic():
                # Rows go in by position (which certificate has which position stays random): two issuances that
                # drew the same positions then meet at the same first one, and the second waits for the first and
                # fails into the retry below, instead of each holding a position the other waits for (a deadlock).
                ordered = sorted(certs, key=lambda cert: cert.status_index)
                Certificate.objects.bulk_create(ordered, batch_size=batch_size)
                # Discarded with the savepoint if this insert is rolled back.
                transaction.on_commit(partial(_counted, status_list.number, len(certs)), robust=True)
            return
        except IntegrityError as exc:
            if not _is_position_clash(exc) or attempt == ATTEMPTS - 1:
                raise
            for cert in certs:  # bulk_create may have set ids before the savepoint rolled back
                cert.pk = None
                cert._state.adding = True


def certificates_insert(certs: Sequence[Certificate], *, batch_size: int | None = None) -> None:
    """Insert new certificates, each at a free random position of the open status list. Any other integrity error
    (a number taken meanwhile) is raised as it is, for the caller to handle."""
    for cert in certs:  # every certificate gets its e-certificate identifier as it is inserted (certificates/ecert.py)
        if not cert.ecert_id:
            cert.ecert_id = identifier_for(cert) or None
    remaining = list(certs)
    with transaction.atomic():
        status_list = open_status_list()
        while remaining:
            room = _room(status_list)
            if room < 1:
                # What is left of a batch larger than the list's room (rare: more than half a list at once).
                status_list = (
                    StatusList.objects.filter(number__gt=status_list.number, full_at__isnull=True)
                    .order_by("number")
                    .first()
                    or _open_next()
                )
                continue
            _insert_into(remaining[:room], status_list, batch_size)
            status_list.assigned += len(remaining[:room])
            remaining = remaining[room:]
