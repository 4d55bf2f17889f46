"""Photos, checked like every other upload and then re-encoded, wherever a photo is accepted (registration, the
person record in the admin), and organisations’ seal images.

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
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

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


MAX_SEAL_BYTES = 2 * 1024 * 1024
SEAL_BOX = (600, 600)  # 40 mm across at about 380 dpi
#: Pixels at least this light (all three channels) are paper, not ink: they become transparent, so the seal prints
#: over the organisation's name the way a stamp does.
_PAPER = 235


def seal_clean(upload) -> ContentFile:
    """An organisation's seal image as a clean PNG with a transparent background (ContentFile named seal.png), or
    ValidationFailed saying what is wrong. Checked like a photo: size, JPEG or PNG by the first bytes, pixels by
    the header before decoding; then re-encoded, so nothing but the pixels of the upload survives."""
    size = getattr(upload, "size", None)
    data = upload.read(MAX_SEAL_BYTES + 1)
    if (size or len(data)) > MAX_SEAL_BYTES or len(data) > MAX_SEAL_BYTES:
        raise ValidationFailed(_("印章图片不能超过2MB"), details={"field": "seal"})
    if not data:
        raise ValidationFailed(_("印章图片文件为空"), details={"field": "seal"})
    expected = next((fmt for magic, fmt in _SIGNATURES.items() if data.startswith(magic)), None)
    if expected is None:
        raise ValidationFailed(_("印章图片须为 PNG 或 JPEG 图片"), details={"field": "seal"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise ValidationFailed(_("印章图片像素过多,请缩小后再上传"), details={"field": "seal"})
                if not (0.5 <= width / height <= 2):
                    raise ValidationFailed(_("印章图片应接近正方形(圆形或方形印章)"), details={"field": "seal"})
                image.load()
                rgba = ImageOps.exif_transpose(image).convert("RGBA")
                rgba.thumbnail(SEAL_BOX, Image.Resampling.LANCZOS)
                red, green, blue, alpha = rgba.split()
                lightest_channel = ImageChops.darker(ImageChops.darker(red, green), blue)
                ink = lightest_channel.point(lambda value: 0 if value >= _PAPER else 255)
                rgba.putalpha(ImageChops.multiply(alpha, ink))
                box = rgba.getchannel("A").getbbox()
                if box is None:
                    raise ValidationFailed(_("印章图片是空白的"), details={"field": "seal"})
                rgba = rgba.crop(box)
                out = io.BytesIO()
                rgba.save(out, format="PNG", optimize=True)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(_("印章图片像素过多,请缩小后再上传"), details={"field": "seal"}) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning):
        raise ValidationFailed(_("无法读取该印章图片,请上传 PNG 或 JPEG 图片"), details={"field": "seal"}) from None
    return ContentFile(out.getvalue(), name="seal.png")
