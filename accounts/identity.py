"""ID numbers and phone numbers: validation, normalisation and masking. One place for all of it."""

import datetime
import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

from core.errors import ValidationFailed
from core.masking import mask_account, mask_id_number, mask_name, mask_phone  # noqa: F401 (re-exported: the one rule)

RIC = "ric"
ID_TYPES = [
    (RIC, _("居民身份证")),
    ("hkmo_permit", _("港澳居民来往内地通行证")),
    ("tw_permit", _("台湾居民来往大陆通行证")),
    ("residence_permit", _("港澳台居民居住证")),
    ("foreign_prc", _("外国人永久居留身份证")),
    ("passport", _("护照")),
]
_OTHER_FORMATS = {
    # Permits issued since 2019: one letter then 8 digits (H/M for 港澳, digits for 台胞证).
    "hkmo_permit": (re.compile(r"^[HM]\d{8}(\d{2})?$"), _("港澳通行证号码应为H或M开头加8位数字")),
    "tw_permit": (re.compile(r"^\d{8}$"), _("台湾居民来往大陆通行证号码应为8位数字")),
    "foreign_prc": (re.compile(r"^([A-Z]{3}\d{12}|9\d{17})$"), _("外国人永久居留身份证号码格式不正确")),
    "passport": (re.compile(r"^[A-Z0-9]{5,17}$"), _("护照号码应为5—17位字母或数字")),
}


def normalise_id_number(id_type: str, value: str) -> str:
    """Validate and return the canonical form, or raise ValidationFailed with the reason."""
    value = (value or "").strip().upper().replace(" ", "")
    if not value:
        raise ValidationFailed(_("请填写证件号码"), details={"field": "id_number"})
    if id_type in (RIC, "residence_permit"):
        try:
            value = ric.validate(value)
        except stdnum_exceptions.InvalidChecksum:
            raise ValidationFailed(_("身份证号码校验位错误"), details={"field": "id_number"}) from None
        except stdnum_exceptions.InvalidComponent:
            raise ValidationFailed(_("身份证号码中的出生日期或地区码无效"), details={"field": "id_number"}) from None
        except stdnum_exceptions.ValidationError:
            raise ValidationFailed(_("身份证号码应为18位"), details={"field": "id_number"}) from None
        if id_type == "residence_permit" and not value.startswith(("81", "82", "83")):
            raise ValidationFailed(_("港澳台居民居住证号码应以81、82或83开头"), details={"field": "id_number"})
        return value
    rule = _OTHER_FORMATS.get(id_type)
    if rule is None:
        raise ValidationFailed(_("不支持的证件类型"), details={"field": "id_type"})
    pattern, message = rule
    if not pattern.match(value):
        raise ValidationFailed(message, details={"field": "id_number"})
    return value


def birth_date_from_ric(value: str) -> datetime.date | None:
    try:
        return ric.get_birth_date(value)
    except (stdnum_exceptions.ValidationError, ValueError):
        return None


PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(value: str) -> str:
    value = (value or "").strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if value and not PHONE_RE.match(value):
        raise ValidationFailed(_("手机号码应为11位,以1开头"), details={"field": "phone"})
    return value


def normalise_credit_code(value: str) -> str:
    """统一社会信用代码 (GB 32100-2015), validated with its check character."""
    from stdnum.cn import uscc

    value = (value or "").strip().upper().replace(" ", "")
    try:
        return uscc.validate(value)
    except stdnum_exceptions.InvalidLength:
        raise ValidationFailed(_("统一社会信用代码应为18位"), details={"field": "credit_code"}) from None
    except stdnum_exceptions.InvalidChecksum:
        raise ValidationFailed(_("统一社会信用代码校验位错误"), details={"field": "credit_code"}) from None
    except stdnum_exceptions.ValidationError:
        raise ValidationFailed(
            _("统一社会信用代码格式不正确(前8位为数字,其余为数字或大写字母,不含I、O、S、V、Z)"),
            details={"field": "credit_code"},
        ) from None


def id_type_from_label(value) -> str:
    """'居民身份证' or 'ric' (or empty, meaning 居民身份证) → the ID type code used in the database. A spreadsheet
    says 居民身份证 whatever the language of the page it was uploaded from, so the Chinese label counts always, and
    the label in the active language as well."""
    text = str(value or "").strip()
    if not text:
        return RIC
    for code, label in ID_TYPES:
        with translation.override(settings.LANGUAGE_CODE):
            chinese = str(label)
        if text in (code, chinese, str(label)):
            return code
    if text in ("身份证", "二代身份证"):
        return RIC
    raise ValidationFailed(_("证件类型“%(v)s”无法识别") % {"v": text}, details={"field": "id_type"})
