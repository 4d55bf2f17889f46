import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from accreditation import services


def pdf_upload(name: str = "申请表.pdf", size: int = 0) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n" + b"0" * max(size - 9, 10)
    return SimpleUploadedFile(name, body, content_type="application/pdf")


SCOPE = [
    {"occupation_code": "6-31-01-03", "levels": ["5", "4", "3"]},
    {"occupation_code": "4-03-02-07", "levels": ["5", "4"]},
]


@pytest.fixture
def draft(org, org_admin):
    filing = services.filing_create(actor=Actor.for_user(org_admin), organisation_id=org.id, scope=SCOPE)
    services.filing_attach(actor=Actor.for_user(org_admin), filing_id=filing.id, title="申请表", upload=pdf_upload())
    return filing


@pytest.fixture
def submitted(draft, org_admin):
    return services.filing_submit(actor=Actor.for_user(org_admin), filing_id=draft.id)


@pytest.fixture
def under_review(submitted, cc_officer):
    return services.filing_start_review(actor=Actor.for_user(cc_officer), filing_id=submitted.id)


@pytest.fixture
def approved(under_review, cc_officer):
    return services.filing_approve(actor=Actor.for_user(cc_officer), filing_id=under_review.id)


def xlsx(rows: list[list]) -> SimpleUploadedFile:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("records.xlsx", buf.getvalue())
