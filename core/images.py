"""Photos, checked like every other upload and then re-encoded, wherever a photo is accepted (registration, the
person record in the admin).

Checked: at most MAX_PHOTO_BYTES; JPEG or PNG by their first bytes (the name and the client's Content-Type are
ignored); at most MAX_PHOTO_PIXELS by the header, before any pixel is decoded (a small file can declare a huge
image). Re-encoded with Pillow: turned upright by its EXIF orientation, flattened on white, scaled to fit
PHOTO_BOX, written as a fresh JPEG. Nothing of the upload but its pixels survives: no EXIF (GPS position, camera,
time), no ICC profile, comments or trailing data, and no polyglot (a file that is also HTML or a script).
"""

import io
import warnings

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ValidationFailed

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_BOX = (600, 800)  # a 1-inch photo is 295 × 413 at 300 dpi; twice that is plenty for print
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": "photo"})


def photo_clean(upload) -> ContentFile:
    """The upload as a clean JPEG (ContentFile named photo.jpg), or ValidationFailed saying what is wrong."""
    size = getattr(upload, "size", None)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if (size or len(data)) > MAX_PHOTO_BYTES or len(data) > MAX_PHOTO_BYTES:
        raise _refuse(_("照片不能超过5MB"))
    if not data:
        raise _refuse(_("照片文件为空"))
    expected = next((fmt for magic, fmt in _SIGNATURES.items() if data.startswith(magic)), None)
    if expected is None:
        raise _refuse(_("照片须为 JPEG 或 PNG 图片"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise _refuse(_("照片像素过多(%(w)d × %(h)d),请缩小后再上传") % {"w": width, "h": height})
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = upright.convert("RGBA") if upright.mode in ("P", "LA", "RGBA", "PA") else upright.convert("RGB")
                if rgb.mode == "RGBA":
                    flat = Image.new("RGB", rgb.size, (255, 255, 255))
                    flat.paste(rgb, mask=rgb.getchannel("A"))
                    rgb = flat
                rgb.thumbnail(PHOTO_BOX, Image.Resampling.LANCZOS)
                out = io.BytesIO()
                rgb.save(out, format="JPEG", quality=90, optimize=True)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own check, from the header
        raise _refuse(_("照片像素过多,请缩小后再上传")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning):
        raise _refuse(_("无法读取该照片,请上传 JPEG 或 PNG 图片")) from None
    return ContentFile(out.getvalue(), name="photo.jpg")
