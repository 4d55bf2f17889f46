"""Turning certificates into what pages, the API and PDFs show."""

import contextlib
import datetime
import io
import warnings

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from . import docsign
from .issuance import token_algorithm, verify_url
from .kinds import imported_note, kind_captions
from .models import Certificate
from .pdf import CERTIFICATE_LANGUAGE, CertificateView, format_issue_date, render_batch, render_certificate

#: A one-inch photo at 300 dpi (25 × 35 mm): what the printed box shows, so nothing larger goes into the PDF.
PRINT_PHOTO_PIXELS = (295, 413)
_MAX_PRINT_PIXELS = 40_000_000


def status_marks(cert: Certificate, today: datetime.date | None = None) -> tuple[str, str]:
    """(mark across the page, line at its top) for a certificate that is no longer valid; ("", "") otherwise."""
    today = today or timezone.localdate()
    since = format_issue_date(cert.status_changed_on or today)
    reason = cert.status_reason
    if cert.status == Certificate.Status.REVOKED:
        return _("已撤销"), _("本证书已于%(d)s撤销:%(r)s。本件不能作为持证证明。") % {"d": since, "r": reason}
    if cert.status == Certificate.Status.SUSPENDED:
        return _("已暂停"), _("本证书自%(d)s起暂停:%(r)s。暂停期间不能作为持证证明。") % {"d": since, "r": reason}
    if cert.status == Certificate.Status.SUPERSEDED:
        new = cert.superseded_by.number if cert.superseded_by_id and cert.superseded_by else ""
        return _("已换发"), _("本证书已于%(d)s换发为%(n)s,本件作废。") % {"d": since, "n": new}
    if cert.valid_until is not None and cert.valid_until < today:
        return _("已过期"), _("本证书有效期至%(d)s,已过期。") % {"d": format_issue_date(cert.valid_until)}
    return "", ""


def print_photo(raw: bytes) -> bytes | None:
    """The holder's photo re-encoded for print: upright, on white, one inch at 300 dpi, a fresh JPEG (nothing of
    the stored file but its pixels). None when the stored file is not a readable JPEG or PNG: the certificate is
    then laid out without a photo rather than refused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=["JPEG", "PNG"]) as image:
                if image.size[0] * image.size[1] > _MAX_PRINT_PIXELS:
                    return None
                image.draft("RGB", (PRINT_PHOTO_PIXELS[0] * 2, PRINT_PHOTO_PIXELS[1] * 2))  # JPEG: decode smaller
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = upright.convert("RGBA")
                flat = Image.new("RGB", rgb.size, (255, 255, 255))
                flat.paste(rgb, mask=rgb.getchannel("A"))
                flat.thumbnail(PRINT_PHOTO_PIXELS, Image.Resampling.LANCZOS)
                out = io.BytesIO()
                flat.save(out, format="JPEG", quality=88)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning, Image.DecompressionBombError):
        return None
    return out.getvalue()


def _stored_photo(cert: Certificate) -> bytes | None:
    """The photo the holder registered with for this certificate (checked and re-encoded when it was uploaded),
    else the one on the person's record; read from storage, None when absent or unreadable."""
    candidates = []
    if cert.registration_id is not None and cert.registration is not None:
        candidates.append(cert.registration.photo)
    candidates.append(cert.person.photo)
    for field in candidates:
        if field:
            with contextlib.suppress(OSError, ValueError):
                field.open("rb")
                try:
                    return field.read()
                finally:
                    field.close()
    return None


def _seal(cert: Certificate) -> bytes | None:
    organisation = cert.organisation if cert.organisation_id else None
    seal = getattr(organisation, "seal", None)
    if not seal:
        return None
    with contextlib.suppress(OSError, ValueError):
        seal.open("rb")
        try:
            return seal.read()
        finally:
            seal.close()
    return None


def certificate_view(cert: Certificate) -> CertificateView:
    """The PDF's content: the printed fields as signed, under the kind's own title and labels; the registration
    photo if there is one; the organisation's seal; the QR target; and, once the certificate is no longer valid,
    a mark across the page saying so. In Chinese whatever language the person who asks browses in."""
    with translation.override(CERTIFICATE_LANGUAGE):
        return _certificate_view(cert)


def _certificate_view(cert: Certificate) -> CertificateView:
    raw = _stored_photo(cert)
    photo = print_photo(raw) if raw else None
    notes = [note for note in (imported_note(cert),) if note]
    if cert.copies > 1:
        notes.append(_("补发件(第%(n)d份):与原件同一证书编号,原件二维码仍可核验。") % {"n": cert.copies})
    mark, mark_note = status_marks(cert)
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
        status_mark=mark,
        status_note=mark_note,
        seal=_seal(cert),
        ecert_id=cert.ecert_id or "",
        **kind_captions(cert.kind),
    )


def pdf_signature_scheme(region_code: str) -> str:
    """ECDSA, or SM2 with SM3 where the certificate's region (or the province above it) chose 国密: the choice as
    it stands when the PDF is made, read by the same rule that chooses the token's algorithm."""
    return docsign.scheme_for(token_algorithm(region_code))


def certificate_pdf(cert: Certificate) -> bytes:
    """The certificate's PDF as handed out: rendered, then signed by the platform (certificates/docsign.py)."""
    view = certificate_view(cert)
    reason = f"{view.title} {cert.number},{cert.organisation_name}颁发"
    return docsign.sign_pdf(render_certificate(view), reason=reason, scheme=pdf_signature_scheme(cert.region_code))


def certificates_print_pdf(certs: list[Certificate], *, label: str) -> bytes:
    """Many certificates as one PDF for the printer, signed once over every page. A print run is one plan's, so
    one organisation's and one region's: the first certificate's region decides the signature."""
    scheme = pdf_signature_scheme(certs[0].region_code) if certs else docsign.ECDSA
    return docsign.sign_pdf(
        render_batch([certificate_view(c) for c in certs]),
        reason=f"{label}:{len(certs)}份证书批量打印",
        scheme=scheme,
    )
