"""The scan query as a PL/pgSQL function (migration certificates 0009), which PostgreSQL plans once per server
connection even behind a transaction-mode pooler: it answers exactly what the plain query answers, for every
shape of certificate, and a scan through it verifies as before."""

import pytest
from django.db import connection
from django.test import override_settings

from certificates import verification
from certificates.models import Certificate
from occupations.models import Qualification
from tests.conftest import require_postgres
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db

REASON = "the scan function is PostgreSQL's (PL/pgSQL); SQLite runs the plain query"


def _rows(sql: str, number: str):
    with connection.cursor() as cursor:
        cursor.execute(sql, [number])
        return cursor.fetchall()


def test_the_function_answers_what_the_plain_query_answers(finalised_plan, org_admin):
    require_postgres(REASON)
    certs = issued_certificates(finalised_plan, org_admin)
    plain, revoked, detached, superseding = certs[:4]
    # Every optional part of the row, present and absent: a status with its reason and date, a certificate
    # without a registration (an imported one), a cancelled catalogue entry, a certificate that replaced another.
    Certificate.objects.filter(pk=revoked.pk).update(
        status=Certificate.Status.REVOKED, status_reason="以欺骗手段取得", status_changed_on="2026-11-02"
    )
    Certificate.objects.filter(pk=detached.pk).update(registration=None, imported=True, note="历史证书")
    Certificate.objects.filter(pk=superseding.pk).update(superseded_by=plain)
    Qualification.objects.filter(pk=plain.occupation.qualification_id).update(
        status=Qualification.Status.CANCELLED, cancelled_on="2026-10-01", cancellation_basis="人社部公告"
    )
    for cert in (plain, revoked, detached, superseding):
        by_function = _rows(verification._SCAN_FUNCTION, cert.number)
        assert by_function == _rows(verification._BY_NUMBER, cert.number)
        assert len(by_function) == 1 and len(by_function[0]) == len(verification._COLUMNS + verification._JOINED)
    assert _rows(verification._SCAN_FUNCTION, "S000000000000000000000") == []


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "behind a transaction-mode pooler"])
def test_a_scan_through_the_function_verifies(finalised_plan, org_admin, prepared):
    require_postgres(REASON)
    cert = issued_certificates(finalised_plan, org_admin)[0]
    with override_settings(VERIFICATION_PREPARED_STATEMENTS=prepared), connection.execute_wrapper(_seen):
        _SEEN.clear()
        result = verification.verify_token(cert.token)
    assert result.status == verification.VALID and result.certificate.number == cert.number
    assert any("certificate_scan(" in sql for sql in _SEEN)


_SEEN: list[str] = []


def _seen(execute, sql, params, many, context):
    _SEEN.append(sql)
    return execute(sql, params, many, context)
