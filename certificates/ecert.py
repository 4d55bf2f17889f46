"""电子证照 (GB/T 36901–36906): the e-certificate identifier (GB/T 36904) and metadata record (GB/T 36903).

An identifier reads `1.2.156.3005.2.{type code}.{issuer credit code}.{serial}.{version}.{check character}`:
  - `1.2.156.3005.2`: the fixed root of e-certificate identifiers;
  - type code: the 证照类型代码 of the kind of certificate, from settings.ECERT_TYPE_CODES (data: the national
    catalogue of e-certificate types assigns it; replace the development values with the assigned ones);
  - issuer credit code: the issuing organisation's 统一社会信用代码;
  - serial: the certificate number (unique nationally, never reused);
  - version: three digits, 001 for the first copy; a reissue (补发) of the same certificate counts up;
  - check character: ISO/IEC 7064 MOD 37,36 (GB/T 17710) over the identifier's letters and digits before it
    (the dots are separators and not counted), one character of 0–9, A–Z.
"""

from __future__ import annotations

import re

from django.conf import settings

from .models import Certificate

ROOT = "1.2.156.3005.2"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUES = {char: value for value, char in enumerate(_ALPHABET)}
_M = 36
IDENTIFIER_RE = re.compile(
    r"1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{1,32})\.(?P<issuer>[0-9A-Z]{18})\.(?P<serial>[0-9A-Z]{8,32})"
    r"\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])"
)


def check_character(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid system) over the letters and digits of `body`; raises ValueError on any
    other character (a dot is skipped)."""
    product = _M
    for char in body:
        if char == ".":
            continue
        value = _VALUES.get(char)
        if value is None:
            raise ValueError(f"not a letter or digit: {char!r}")
        total = (product + value) % _M or _M
        product = (total * 2) % (_M + 1)
    return _ALPHABET[(_M + 1 - product) % _M]


def is_valid(identifier: str) -> bool:
    """Well formed, and its check character right: any one character changed fails, and nearly any two
    neighbours swapped (ISO/IEC 7064 hybrid systems catch every single substitution, not every transposition)."""
    if not isinstance(identifier, str) or IDENTIFIER_RE.fullmatch(identifier) is None:
        return False
    return check_character(identifier[:-2]) == identifier[-1]


def looks_like_identifier(value: str) -> bool:
    return isinstance(value, str) and value.startswith(ROOT + ".")


def type_code(kind: str) -> str:
    return settings.ECERT_TYPE_CODES[kind]


def identifier_for(cert: Certificate, *, version: int = 1) -> str:
    """The identifier of a certificate issued by a filed organisation; "" for one without a credit code behind it
    (an imported historical certificate names an issuer that was never filed here)."""
    organisation = cert.organisation if cert.organisation_id else None
    credit_code = getattr(organisation, "credit_code", "") or ""
    if len(credit_code) != 18:
        return ""
    body = f"{ROOT}.{type_code(cert.kind)}.{credit_code}.{cert.number}.{version:03d}"
    return f"{body}.{check_character(body)}"


def version_of(identifier: str) -> int:
    match = IDENTIFIER_RE.fullmatch(identifier)
    return int(match.group("version")) if match else 0


def metadata(cert: Certificate) -> dict:
    """The certificate's metadata record, named as GB/T 36903 names the elements (证照标识, 证照类型名称, …)."""
    from .kinds import kind_captions

    organisation = cert.organisation if cert.organisation_id else None
    return {
        "证照标识": cert.ecert_id,
        "证照类型名称": kind_captions(cert.kind)["title"],
        "证照类型代码": type_code(cert.kind),
        "证照编号": cert.number,
        "证照颁发机构": cert.organisation_name,
        "证照颁发机构代码": getattr(organisation, "credit_code", "") or "",
        "证照颁发日期": cert.issued_on.isoformat(),
        "证照有效期起始日期": cert.issued_on.isoformat(),
        "证照有效期截止日期": cert.valid_until.isoformat() if cert.valid_until else "长期",
        "持证主体": cert.holder_name,
        "持证主体代码类型": cert.id_type,
        "证照状态": cert.get_status_display(),
        "照面信息": {
            "职业名称": cert.occupation_name,
            "工种/职业方向": cert.work_type or "--",
            kind_captions(cert.kind)["level_caption"]: cert.level.label,
        },
    }
