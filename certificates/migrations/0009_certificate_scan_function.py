"""The scan query as a PL/pgSQL function, so that PostgreSQL plans it once per server connection even behind a
pooler in transaction mode, where a client cannot keep a prepared statement (certificates/verification.py).

A PL/pgSQL function's statements are prepared on the first call in a server process and their plans kept for the
life of that process, whichever client the pooler hands it to; planning the six-table join on every first scan
cost PostgreSQL about 1 ms of CPU behind PgBouncer at 10,000,000 certificates, the lookup itself 0.1 ms. The
columns come out in the order of verification._COLUMNS + _JOINED (tests/certificates/test_scan_function.py
compares the function with the plain query); text columns are returned as text, so widening one changes nothing.
SQLite has no such functions and runs the plain query.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION certificate_scan(p_number text)
RETURNS TABLE (
    id bigint, number text, kind text, holder_name text, id_type text, id_number text, occupation_name text,
    work_type text, organisation_name text, issued_on date, status text, status_reason text,
    status_changed_on date, valid_until date, imported boolean, note text, organisation_id bigint,
    region_code text, superseded_by_id bigint, ecert_id text, token text,
    level_name text, level_title text, level_name_en text, photo text,
    q_id bigint, q_name text, q_status text, q_cancelled_on date, q_basis text, finalised_at timestamptz
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.id, c.number::text, c.kind::text, c.holder_name::text, c.id_type::text, c.id_number::text,
           c.occupation_name::text, c.work_type::text, c.organisation_name::text, c.issued_on, c.status::text,
           c.status_reason::text, c.status_changed_on, c.valid_until, c.imported, c.note::text, c.organisation_id,
           c.region_code::text, c.superseded_by_id, c.ecert_id::text, c.token::text,
           l.name::text, l.title::text, l.name_en::text, p.photo::text,
           q.id, q.name::text, q.status::text, q.cancelled_on, q.cancellation_basis::text, r.finalised_at
    FROM certificates_certificate c
    JOIN occupations_level l ON l.id = c.level_id
    JOIN accounts_person p ON p.id = c.person_id
    LEFT JOIN occupations_occupation o ON o.id = c.occupation_id
    LEFT JOIN occupations_qualification q ON q.id = o.qualification_id
    LEFT JOIN assessments_registration r ON r.id = c.registration_id
    WHERE c.number = p_number;
END
$fn$;
"""
DROP = "DROP FUNCTION IF EXISTS certificate_scan(text);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_squashed_links"),
        ("assessments", "0006_evidence_retention_default"),
        ("certificates", "0008_certificate_indexes_without_prefix_copies"),
        ("occupations", "0001_squashed"),
    ]

    operations = [migrations.RunPython(create, drop)]
