"""Public verification: a token (from the QR) or a number + name + ID number, to a status anyone can trust.

A token whose signature fails is `forged`; a well-signed token whose certificate's printed fields no longer
match what was signed is `forged` too (the data was altered). When the key ring cannot be read the answer is
an error, never `valid`.
"""

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.identity import mask_id_number, mask_name, normalise_id_number
from core.db_routing import current_alias
from core.errors import ValidationFailed
from occupations.models import LevelLabels, Qualification

from . import ecert, signing, verification_cache, verification_log
from .issuance import printed_fields
from .kinds import imported_note, kind_captions
from .models import Certificate, VerificationLog

VALID, REVOKED, SUSPENDED, EXPIRED, FORGED, UNKNOWN, SUPERSEDED = (
    "valid",
    "revoked",
    "suspended",
    "expired",
    "forged",
    "unknown",
    "superseded",
)


@dataclass
class Verification:
    status: str
    certificate: "ScannedCertificate | None" = None
    reason: str = ""
    #: Answered for an e-certificate identifier alone, which is printed and can be guessed serial by serial (no
    #: signature in it, unlike the QR token): the holder's name is masked and the photo not offered.
    by_identifier: bool = False

    def public(self) -> dict:
        """What anyone may see: masked ID, no phone, the status and its public reason."""
        c = self.certificate
        checked_at = datetime.datetime.now(timezone.get_default_timezone()).isoformat(timespec="seconds")
        data: dict = {"status": self.status, "checked_at": checked_at}
        if c is None or self.status == FORGED:
            return data
        # The note depends on today's date, the other fields only on the row.
        data["certificate"] = {**_public_certificate(c), "catalogue_note": catalogue_note(c)}
        if self.by_identifier:
            data["certificate"].update(holder_name=mask_name(c.holder_name), has_photo=False)
        if self.status in (REVOKED, SUSPENDED, SUPERSEDED, EXPIRED):
            data["status_reason"] = c.status_reason
            data["status_since"] = (c.status_changed_on or c.valid_until or c.issued_on).isoformat()
        if self.status == SUPERSEDED and c.superseded_by_id:
            data["superseded_by"] = (
                Certificate.objects.filter(pk=c.superseded_by_id).values_list("number", flat=True).first()
            )
        return data


def _public_certificate(c: "ScannedCertificate") -> dict:
    """The certificate's public fields, built once per row and language (verification_cache keeps rows)."""
    language = translation.get_language()
    kept = c.public_fields
    if kept is not None and kept[0] == language:
        return kept[1]
    captions = kind_captions(c.kind)
    fields = {
        "number": c.number,
        "kind": str(Certificate.Kind(c.kind).label),
        "holder_name": c.holder_name,
        "id_type": c.id_type,
        "id_number": mask_id_number(c.id_number),
        "occupation": c.occupation_name,
        "work_type": c.work_type or "--",
        "level": c.level.label_for_reader,
        "organisation": c.organisation_name,
        "issued_on": c.issued_on.isoformat(),
        "imported": c.imported,
        "ecert_id": c.ecert_id or "",
        "imported_note": imported_note(c),
        "title": captions["title"],
        "level_caption": captions["level_caption"],
        "note": c.note,
        "has_photo": bool(c.photo),
    }
    c.public_fields = (language, fields)
    return fields


def earned_on(cert: "ScannedCertificate") -> datetime.date:
    """The day the certificate was earned: its issue date, or the day its result became final when that came first
    (a graduating class's certificates carry the later graduation date, certificates/issuance.issue_date_for)."""
    if cert.finalised_at is None:
        return cert.issued_on
    return min(cert.issued_on, timezone.localdate(cert.finalised_at))


def catalogue_note(cert: "ScannedCertificate", today: datetime.date | None = None) -> str:
    """Notice section 四: a certificate earned before its qualification was cancelled stays proof of ability.

    Read from the occupation's catalogue entry that the verification query already joined, so it costs nothing.
    """
    if cert.q_id is None or cert.q_status not in Qualification.OUT or cert.q_cancelled_on is None:
        return ""
    today = today or timezone.localdate()
    if cert.q_cancelled_on > today or earned_on(cert) >= cert.q_cancelled_on:
        return ""
    removed = cert.q_status == Qualification.Status.REMOVED
    state = pgettext("qualification state", "移出目录") if removed else pgettext("qualification state", "取消")
    return _(
        "“%(name)s”已于%(day)s%(state)s(%(basis)s)。本证书取得于%(state)s之前,继续有效,可作为持证人能力水平的证明。"
    ) % {"name": cert.q_name, "day": cert.q_cancelled_on.isoformat(), "state": state, "basis": cert.q_basis}


def _status_of(cert: "ScannedCertificate", today: datetime.date) -> str:
    if cert.status == Certificate.Status.VALID:
        return EXPIRED if cert.valid_until and cert.valid_until < today else VALID
    return {
        Certificate.Status.REVOKED: REVOKED,
        Certificate.Status.SUSPENDED: SUSPENDED,
        Certificate.Status.SUPERSEDED: SUPERSEDED,
    }[cert.status]


def _log(channel: str, result: Verification) -> None:
    c = result.certificate if result.status != FORGED else None
    verification_log.record(
        channel=channel,
        result=result.status,
        certificate_id=c.id if c else None,
        organisation_id=c.organisation_id if c else None,
        region_code=c.region_code if c else "",
    )


_COLUMNS = (
    "id",
    "number",
    "kind",
    "holder_name",
    "id_type",
    "id_number",
    "occupation_name",
    "work_type",
    "organisation_name",
    "issued_on",
    "status",
    "status_reason",
    "status_changed_on",
    "valid_until",
    "imported",
    "note",
    "organisation_id",
    "region_code",
    "superseded_by_id",
    "ecert_id",
    "token",
)
# What the joins add: the level's names, the holder's photo, the catalogue entry (for the note on certificates
# earned before a cancellation) and when the result became final (a graduating class).
_JOINED = (
    "level_name",
    "level_title",
    "level_name_en",
    "photo",
    "q_id",
    "q_name",
    "q_status",
    "q_cancelled_on",
    "q_basis",
    "finalised_at",
)
# The hot path of every scan: one indexed lookup by number, joined to what the page shows, prepared once.
_BY_NUMBER = (
    "SELECT " + ", ".join(f"c.{c}" for c in _COLUMNS) + ", l.name, l.title, l.name_en, p.photo, "
    "q.id, q.name, q.status, q.cancelled_on, q.cancellation_basis, r.finalised_at "
    "FROM certificates_certificate c JOIN occupations_level l ON l.id = c.level_id "
    "JOIN accounts_person p ON p.id = c.person_id "
    # The catalogue entry: two primary-key joins.
    "LEFT JOIN occupations_occupation o ON o.id = c.occupation_id "
    "LEFT JOIN occupations_qualification q ON q.id = o.qualification_id "
    "LEFT JOIN assessments_registration r ON r.id = c.registration_id WHERE c.number = %s"
)
# On PostgreSQL the same query as a PL/pgSQL function (migration certificates 0009): its plan is kept by each server
# process, so it is planned once per connection even behind a pooler in transaction mode, where a statement
# cannot stay prepared (planning the joins cost about 1 ms of the database's CPU on every first scan).
_SCAN_FUNCTION = "SELECT * FROM certificate_scan(%s)"


class ScannedCertificate:
    """A certificate as verification reads it: the scan query's row, kept as it came, with no model instance (five
    of them, certificate, level, person, occupation and catalogue entry, cost about a fifth of a first scan).

    It has the attributes of a Certificate that verifying reads (`issuance.printed_fields` takes it as it takes a
    Certificate; `level` has `label` and `label_for_reader`), plus the joined values (`photo`, `q_*` of the
    catalogue entry, `finalised_at` of the registration). `public_fields` keeps the public answer's fields per
    language: remembered rows (verification_cache) build them once.
    """

    __slots__ = (*_COLUMNS, *_JOINED, "level", "public_fields")

    def __init__(self, row: tuple):
        for name, value in zip(_COLUMNS + _JOINED, row, strict=True):
            setattr(self, name, value)
        self.level = LevelLabels(self.level_name, self.level_title, self.level_name_en)
        self.public_fields = None
        if isinstance(self.issued_on, str):  # SQLite returns text
            for name in ("issued_on", "status_changed_on", "valid_until", "q_cancelled_on"):
                value = getattr(self, name)
                if isinstance(value, str):
                    setattr(self, name, datetime.date.fromisoformat(value))
            if isinstance(self.finalised_at, str):
                self.finalised_at = parse_datetime(self.finalised_at)
            if self.imported in (0, 1):
                self.imported = bool(self.imported)
        if self.finalised_at is not None and timezone.is_naive(self.finalised_at):  # SQLite keeps UTC, no zone
            self.finalised_at = timezone.make_aware(self.finalised_at, datetime.UTC)


def _fetch_by_number(number: str):
    """One round trip. Django's health check (CONN_HEALTH_CHECKS) would add a `SELECT 1` before the first query
    of every request; this query goes without it and, if the connection turns out to be dead (the database
    restarted), retries once on a new one, so a scan never fails for a connection that can be replaced."""
    conn = connections[current_alias()]  # the replica in a public request that may read it, else the primary

    query = _SCAN_FUNCTION if conn.vendor == "postgresql" else _BY_NUMBER

    def fetch():
        with _cursor(conn) as cursor:
            cursor.execute(query, [number])
            return cursor.fetchone()

    if conn.connection is not None and not conn.in_atomic_block:
        conn.health_check_done = True
    try:
        return fetch()
    except (OperationalError, InterfaceError):
        if conn.in_atomic_block:
            raise
        conn.close()
        return fetch()


def _cursor(conn):
    """Django's cursor, or on PostgreSQL (unless VERIFICATION_PREPARED_STATEMENTS is off, as behind a pooler in
    transaction mode) one that prepares its statements, so that even the call of the scan function is parsed once
    per connection. Django's cursors bind parameters on the client and cannot prepare; this one is
    still wrapped by Django (error translation, query logging)."""
    if conn.vendor != "postgresql" or not settings.VERIFICATION_PREPARED_STATEMENTS:
        return conn.cursor()
    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:  # Django turns preparing off; allow it for explicit requests only
        raw.prepare_threshold = 2**31 - 1
    return conn._prepare_cursor(_prepared_cursor_class()(raw))


@functools.cache
def _prepared_cursor_class():
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


def _certificate_by_number(number: str) -> ScannedCertificate | None:
    row = _fetch_by_number(number)
    return None if row is None else ScannedCertificate(row)


def verify_token(token: str, *, channel: str = VerificationLog.Channel.SCAN) -> Verification:
    """Raises signing.SigningKeysError when keys cannot be read: the caller must answer 'cannot check'.

    A token verified before is answered from verification_cache while its certificate, the key ring and the
    feed of changes say nothing has changed; its status is still worked out for today.
    """
    cached, generation = verification_cache.lookup(token)
    if cached is not None and cached[0] is signing.ring_recent():
        _ring, cert, matches = cached
        result = _answer(cert, matches)
    else:
        ring = signing.ring_recent() if generation is not None else None
        # The row first (one indexed probe): a token identical to the stored one needs no signature check
        # (signing.token_check's `stored`); any other is verified in full before anything is answered from the row.
        number = signing.token_claims(token)
        cert = _certificate_by_number(number) if number is not None else None
        check = signing.token_check(token, stored=cert.token if cert is not None else None)
        if not check.signature_ok:
            result = Verification(FORGED, reason=check.reason)
        elif cert is None:
            result = Verification(UNKNOWN, reason="no_such_certificate")
        else:
            matches = check.matches(printed_fields(cert))
            result = _answer(cert, matches)
            verification_cache.store(token, cert.number, (ring, cert, matches), generation)
    _log(channel, result)
    return result


def verify_identifier(identifier: str, *, channel: str = VerificationLog.Channel.API) -> Verification:
    """Verify by e-certificate identifier (GB/T 36904): a wrong check character or a part that does not belong to
    the certificate is `forged`; a well-formed identifier of no certificate is `unknown`. A copy's identifier of an
    earlier version (before a 补发) still verifies, as its QR code does. The stored token's signature over the
    printed fields is checked as for a scan, so a record altered in the database is `forged` here too.
    Callers rate-limit this path: the answer masks the holder's name (see Verification.by_identifier)."""
    if not ecert.is_valid(identifier):
        result = Verification(FORGED, reason="bad_identifier", by_identifier=True)
    else:
        number = ecert.IDENTIFIER_RE.fullmatch(identifier).group("serial")
        cert = _certificate_by_number(number)
        current = (cert.ecert_id or "") if cert is not None else ""
        if cert is None or not current:
            result = Verification(UNKNOWN, reason="no_such_certificate", by_identifier=True)
        elif identifier.rsplit(".", 2)[0] != current.rsplit(".", 2)[0]:
            result = Verification(FORGED, reason="identifier_mismatch", by_identifier=True)
        elif ecert.version_of(identifier) > ecert.version_of(current):
            result = Verification(UNKNOWN, reason="no_such_version", by_identifier=True)
        else:
            check = signing.token_check(cert.token)
            matches = check.number == cert.number and check.matches(printed_fields(cert))
            result = _answer(cert, matches)
            result.by_identifier = True
    _log(channel, result)
    return result


def _answer(cert: ScannedCertificate, matches: bool) -> Verification:
    if not matches:
        return Verification(FORGED, cert, reason="fields_changed")
    return Verification(_status_of(cert, timezone.localdate()), cert)


def verify_lookup(*, number: str, name: str, id_number: str) -> Verification:
    """The national-query style lookup: all three must match, or the answer is `unknown` (nothing leaks)."""
    number = (number or "").strip().upper()
    name = (name or "").strip()
    cert = _certificate_by_number(number) if number else None
    ok = False
    if cert is not None and name and cert.holder_name == name:
        try:
            candidate = (
                normalise_id_number("ric", id_number)
                if len((id_number or "").strip()) == 18
                else (id_number or "").strip().upper()
            )
        except ValidationFailed:  # an invalid ID number simply does not match
            candidate = (id_number or "").strip().upper()
        ok = candidate == cert.id_number
    result = Verification(_status_of(cert, timezone.localdate()), cert) if ok else Verification(UNKNOWN)
    _log(VerificationLog.Channel.LOOKUP, result)
    return result
