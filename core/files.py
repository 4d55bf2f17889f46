"""Uploaded files leave the platform only through a view that has checked the reader (never from MEDIA_URL: no URL
pattern serves the media folder, in development either). Each such view finds the object through its resource's
scoping helper, so another tenant's file is a 404 like another tenant's record, and answers with this."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from .errors import ValidationFailed

_SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def sniffed_content_type(file: FieldFile) -> str:
    """The type the stored bytes say they are (only PDF, PNG and JPEG are ever accepted), else a download."""
    with file.open("rb") as handle:
        head = handle.read(16)
    for magic, content_type in _SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return "application/octet-stream"


def private_file_response(file: FieldFile, *, name: str, content_type: str = "", inline: bool = False) -> FileResponse:
    """The file for a reader who has been checked: a platform-made name, not cached by shared caches, never sniffed
    into another type by the browser."""
    content_type = content_type or sniffed_content_type(file)
    response = FileResponse(file.open("rb"), content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}{_EXTENSIONS.get(content_type, "")}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def document_checked(upload, *, field: str = "file", max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """An uploaded document is a PDF, PNG or JPEG by its content (not its name) and at most `max_bytes`: its type and
    extension, or ValidationFailed saying what is wrong."""
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise ValidationFailed(_("文件为空"), details={"field": field})
    if size > max_bytes:
        raise ValidationFailed(
            _("文件超过%(mb)dMB上限") % {"mb": max_bytes // (1024 * 1024)}, details={"field": field, "size": size}
        )
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in _SIGNATURES.items():
        if head.startswith(magic):
            return _EXTENSIONS[content_type]
    raise ValidationFailed(_("只接受PDF、PNG或JPEG文件"), details={"field": field})
