"""The 加注件 as a one-page PDF: the certificate's facts (ID number masked), the purpose and the period stamped
across it, and the copy's own QR code; signed by the platform like the certificate's own PDF, so that a reader
shows an edited copy as altered."""

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML

from accounts.identity import mask_id_number
from certificates import docsign
from certificates.presenters import pdf_signature_scheme
from certificates.qr import qr_svg

from .models import SharedCopy
from .services import copy_url


def render_copy(copy: SharedCopy) -> bytes:
    cert = copy.certificate
    with translation.override("zh-hans"):
        html = render_to_string(
            "sharing/copy_pdf.html",
            {
                "copy": copy,
                "cert": cert,
                "id_number": mask_id_number(cert.id_number),
                "qr": qr_svg(copy_url(copy)),
                "url": copy_url(copy),
            },
        )
    return HTML(string=html).write_pdf()


def copy_pdf(copy: SharedCopy) -> bytes:
    """The copy as handed out: rendered, then signed (ECDSA, or SM2 where the certificate's region chose 国密)."""
    cert = copy.certificate
    reason = f"{cert.number} 加注件:{copy.purpose}"
    return docsign.sign_pdf(render_copy(copy), reason=reason, scheme=pdf_signature_scheme(cert.region_code))
