"""Turning certificates into what pages, the API and PDFs show."""

import contextlib

from .issuance import verify_url
from .models import Certificate
from .pdf import CertificateView


def certificate_view(cert: Certificate) -> CertificateView:
    """The PDF's content: the printed fields as signed, the photo if the holder has one, the QR target."""
    photo = None
    if cert.person.photo:
        with contextlib.suppress(OSError, ValueError):
            photo = cert.person.photo.read()
    notes = []
    if cert.imported:
        notes.append("本证书为历史证书,经平台核验登记")
    return CertificateView(
        holder_name=cert.holder_name,
        id_type_label=cert.id_type,
        id_number_display=cert.id_number,
        photo=photo,
        occupation_name=cert.occupation_name,
        work_type=cert.work_type or "--",
        level_label=cert.level.label,
        number=cert.number,
        organisation_name=cert.organisation_name,
        issue_date=cert.issued_on,
        verify_url=verify_url(cert),
        notes=tuple(notes),
    )


def certificate_out(cert: Certificate) -> dict:
    return {
        "id": cert.id,
        "number": cert.number,
        "kind": cert.kind,
        "holder_name": cert.holder_name,
        "id_number": cert.person.masked_id_number,
        "occupation": cert.occupation_name,
        "work_type": cert.work_type or "--",
        "level": cert.level.code,
        "level_label": cert.level.label,
        "organisation": cert.organisation_name,
        "organisation_id": cert.organisation_id,
        "issued_on": cert.issued_on,
        "status": cert.status,
        "status_label": cert.get_status_display(),
        "status_reason": cert.status_reason,
        "imported": cert.imported,
        "verify_url": verify_url(cert),
    }
