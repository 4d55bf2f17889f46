"""Random, unique positions in the credential status lists, also when several issuances run at once.

Each new certificate gets a position drawn at random from STATUS_LIST_CAPACITY and not held by any certificate
yet; the unique constraint on `status_index` is the final word. Two issuances that draw the same free position at
the same moment: on PostgreSQL the second insert waits for the first transaction and then fails on the constraint,
inside a savepoint, and its batch draws again. Nothing else is locked, so issuances never wait on each other for
this (tests/certificates/test_credentials.py::test_concurrent_issuances_that_draw_the_same_positions_both_succeed).
"""

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from .ecert import identifier_for
from .models import Certificate, random_status_index

ATTEMPTS = 8


def _draw(count: int) -> list[int]:
    """`count` distinct positions that no certificate holds right now."""
    chosen: set[int] = set()
    while len(chosen) < count:
        wanted = count - len(chosen)
        candidates = {random_status_index() for _ in range(wanted + 8)} - chosen
        taken = set(Certificate.objects.filter(status_index__in=candidates).values_list("status_index", flat=True))
        chosen.update(sorted(candidates - taken)[:wanted])
    drawn = list(chosen)
    # sorted() above only picks which candidates to keep; the order handed out is random again.
    return [drawn.pop(random_status_index() % len(drawn)) for _ in range(count)]


def _is_position_clash(exc: IntegrityError) -> bool:
    return "status_index" in str(exc)


def certificates_insert(certs: Sequence[Certificate], *, batch_size: int | None = None) -> None:
    """Insert new certificates, each at a free random status-list position. Any other integrity error (a number
    taken meanwhile) is raised as it is, for the caller to handle."""
    for cert in certs:  # every certificate gets its e-certificate identifier as it is inserted (certificates/ecert.py)
        if not cert.ecert_id:
            cert.ecert_id = identifier_for(cert) or None
    for attempt in range(ATTEMPTS):
        for cert, position in zip(certs, _draw(len(certs)), strict=True):
            cert.status_index = position
        try:
            with transaction.atomic():
                Certificate.objects.bulk_create(certs, batch_size=batch_size)
            return
        except IntegrityError as exc:
            if not _is_position_clash(exc) or attempt == ATTEMPTS - 1:
                raise
            for cert in certs:  # bulk_create may have set ids before the savepoint rolled back
                cert.pk = None
                cert._state.adding = True
