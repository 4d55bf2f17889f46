"""Certificates as W3C Verifiable Credentials 2.0 / Open Badges 3.0, and their Bitstring Status Lists.

A certificate exports as an `OpenBadgeCredential` secured as a VC-JWT (VC-JOSE-COSE): a compact JWS with
`typ: vc+jwt`, `alg: EdDSA` and the `kid` of the platform's active key; the JWT claims set *is* the credential.

Who issues and who signs. The issuer of the credential is the evaluation organisation (谁评价、谁发证), so
`issuer.id` is its page in the public directory. The platform holds the keys and signs on its behalf. Open
Badges 3.0 verifiers reject a VC-JWT whose `iss` differs from `issuer.id`, and VC-JOSE-COSE asks issuers not to
let `iss`/`issuer`, `jti`/`id` and `sub`/`credentialSubject.id` conflict, so `iss` carries `issuer.id`, not the
platform's address. The platform shows up where the standards leave room for it:
  - the key: the header `kid` names a key in `{SITE_URL}/.well-known/jwks.json`, on the same origin as every
    `issuer.id` (the directory pages are served by the platform);
  - `description` says in words who signed and where the keys are;
  - each issuer has its own status lists (`/api/v1/credentials/status/{issuer_key}/{purpose}`), whose `iss` and
    `issuer` are that issuer's, signed with the same platform key: strict Open Badges verifiers (openbadgeslib's
    OB3Verifier with status checks) require the list's issuer to equal the badge's. Bitstring Status List v1.0
    would allow them to differ; credentials exported before this point at the platform-wide lists
    (`/api/v1/credentials/status/{purpose}`, issued by SITE_URL), which stay published.

Historical certificates (imported, no filed organisation) get an issuer id derived from the name as printed.

Who the holder is. The credential names the holder (their name, as printed) and an opaque subject id, and carries
nothing derived from the ID number. An ID number has so little entropy once masked (220102********1234 leaves the
birth date: about 25,000 days, a tenth of which pass the check digit) that any hash of it a verifier could check
offline — salted or not, the salt has to travel with it — is one anyone can check against every candidate: the
full number came back from a masked one and the old `identityHash` in 0.07 s. A relying party that needs to tie
the certificate to an ID card uses the online lookup (number + name + ID number, rate limited, verify_lookup),
which answers only whether all three match. See SECURITY.md, "Credential re-identification".

Status: each credential carries two BitstringStatusListEntry items, `revocation` and `suspension`, at the
certificate's `status_index` in its list `status_list`: a random position, unique in that list, so a list shows
neither how many certificates were issued nor, of a revoked bit, which certificate (or when) it belongs to. A
superseded (换发) certificate counts as revoked: it will not come back, and a verifier must not accept the replaced
credential. The platform has several lists of fixed capacity (certificates/status_index.py); list 0 is published at
the URLs above, list n ≥ 1 at `/api/v1/credentials/status/{issuer_key}/{n}/{purpose}`. An issuer's list n carries
the bits of that issuer's certificates in list n only.
"""

import base64
import datetime
import gzip
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound

from . import signing
from .issuance import printed_fields
from .kinds import kind_captions
from .models import STATUS_LIST_CAPACITY, Certificate, StatusList

VC_JWT_TYPE = "vc+jwt"
VC_JWT_MEDIA_TYPE = "application/vc+jwt"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

REVOCATION, SUSPENSION = "revocation", "suspension"
# Which certificate states set a bit in which list. Revocation may never be undone (as the spec requires of the
# "revocation" purpose); suspension can be lifted.
STATUS_PURPOSES: dict[str, tuple[str, ...]] = {
    REVOCATION: (Certificate.Status.REVOKED, Certificate.Status.SUPERSEDED),
    SUSPENSION: (Certificate.Status.SUSPENDED,),
}
# The specification's minimum: 16 KB of uncompressed bitstring; lists are whole blocks of this size, at least
# STATUS_LIST_CAPACITY bits (certificates/models.py), whatever the number of certificates.
STATUS_LIST_BLOCK_BITS = 131_072
STATUS_LIST_TTL_SECONDS = 60
_CACHE_KEY = "certificates:status-list:v3:{generation}:{issuer}:{number}:{purpose}"
_GENERATION_KEY = "certificates:status-list:generation"


# --- identifiers ------------------------------------------------------------------------------------------


def _site() -> str:
    return settings.SITE_URL


def credential_id(cert: Certificate) -> str:
    return f"{_site()}/credentials/{cert.number}"


def status_list_url(purpose: str, issuer_key: str | None = None, number: int = 0) -> str:
    """The list a credential points at: its issuer's own (`issuer_key`) list `number`, or the platform-wide list 0
    that credentials exported before issue 15 point at (kept, with the platform as its issuer). List 0 keeps the
    URLs it had before there were several lists."""
    if issuer_key is None:
        return f"{_site()}/api/v1/credentials/status/{purpose}"
    if number == 0:
        return f"{_site()}/api/v1/credentials/status/{issuer_key}/{purpose}"
    return f"{_site()}/api/v1/credentials/status/{issuer_key}/{number}/{purpose}"


def _historical_issuer_uuid(organisation_name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{_site()}/issuers/{organisation_name}")


def issuer_key(cert: Certificate) -> str:
    """The path segment naming the credential's issuer in its status list URLs: `o{id}` for a filed organisation,
    `h{uuid}` for the issuer an imported certificate names."""
    if cert.organisation_id is not None:
        return f"o{cert.organisation_id}"
    return f"h{_historical_issuer_uuid(cert.organisation_name).hex}"


def issuer_id(cert: Certificate) -> str:
    if cert.organisation_id is not None:
        return f"{_site()}/directory/{cert.organisation_id}/"
    # An imported certificate names an issuer that was never filed here: a stable id from the printed name.
    return f"{_site()}/credentials/issuers/{_historical_issuer_uuid(cert.organisation_name)}"


def subject_id(cert: Certificate) -> str:
    """One opaque id per person, the same across their credentials: derived from the platform's internal person
    id, never from the ID number or the name."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{_site()}/people/{cert.person_id}')}"


def achievement_id(cert: Certificate) -> str:
    occupation = (
        cert.occupation.code if cert.occupation_id else str(uuid.uuid5(uuid.NAMESPACE_URL, cert.occupation_name))
    )
    return f"{_site()}/achievements/{cert.kind}/{occupation}/{cert.level.code}"


# --- the credential ---------------------------------------------------------------------------------------


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def _end_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=timezone.get_default_timezone())


def _criteria(cert: Certificate) -> str:
    standard = cert.occupation.standard_on(cert.issued_on) if cert.occupation_id else None
    if standard is not None:
        return str(standard)
    if cert.kind == Certificate.Kind.QUALIFICATION:
        return _("依据原国家职业资格制度鉴定合格(%(o)s)") % {"o": cert.occupation_name}
    return _("依据国家职业技能标准(%(o)s)评价合格") % {"o": cert.occupation_name}


def _description(cert: Certificate) -> str:
    if cert.kind == Certificate.Kind.QUALIFICATION:
        return _("改革前取得的职业资格证书,%(o)s %(l)s,继续作为能力水平的证明。") % {
            "o": cert.occupation_name,
            "l": cert.level.label,
        }
    return _("经职业技能等级认定,取得%(o)s %(l)s职业技能等级。") % {"o": cert.occupation_name, "l": cert.level.label}


def _issuer(cert: Certificate) -> dict:
    issuer: dict = {"id": issuer_id(cert), "type": ["Profile"], "name": cert.organisation_name}
    if cert.organisation_id is not None:
        issuer["url"] = issuer["id"]
        if cert.organisation.credit_code:
            issuer["otherIdentifier"] = [
                {
                    "type": "IdentifierEntry",
                    "identifier": cert.organisation.credit_code,
                    "identifierType": "ext:UnifiedSocialCreditCode",
                }
            ]
    return issuer


def _status_entries(cert: Certificate) -> list[dict]:
    key = issuer_key(cert)
    return [
        {
            "id": f"{status_list_url(purpose, key, cert.status_list)}#{cert.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(cert.status_index),
            "statusListCredential": status_list_url(purpose, key, cert.status_list),
        }
        for purpose in STATUS_PURPOSES
    ]


def credential_claims(cert: Certificate, *, now: int | None = None) -> dict:
    """The credential and its JWT claims, unsigned."""
    valid_from = _start_of(cert.issued_on)
    title = kind_captions(cert.kind)["title"]
    achievement = {
        "id": achievement_id(cert),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": f"{cert.occupation_name} {cert.level.label}",
        "description": _description(cert),
        "criteria": {"narrative": _criteria(cert)},
        "fieldOfStudy": cert.occupation.code if cert.occupation_id else cert.occupation_name,
        "inLanguage": "zh-CN",
    }
    if cert.work_type:
        achievement["specialization"] = cert.work_type
    credential: dict = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id(cert),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": title,
        "description": _("%(t)s,证书编号 %(n)s%(e)s。由%(i)s颁发,职业技能等级认定平台(%(s)s)代为签名,公钥见 %(k)s。")
        % {
            "t": title,
            "n": cert.number,
            "e": _(",电子证照标识 %(id)s") % {"id": cert.ecert_id} if cert.ecert_id else "",
            "i": cert.organisation_name,
            "s": _site(),
            "k": f"{_site()}/.well-known/jwks.json",
        },
        "issuer": _issuer(cert),
        "validFrom": valid_from.isoformat(),
        "awardedDate": valid_from.isoformat(),
        "credentialSubject": {
            "id": subject_id(cert),
            "type": ["AchievementSubject"],
            # The name only (Open Badges' IdentityObject carries it in identityHash, unhashed); nothing from the ID number.
            "identifier": [
                {"type": "IdentityObject", "identityHash": cert.holder_name, "identityType": "name", "hashed": False},
            ],
            "achievement": achievement,
            # The e-certificate identifier (GB/T 36904) where there is one, else the certificate number.
            "licenseNumber": cert.ecert_id or cert.number,
        },
        "credentialStatus": _status_entries(cert),
    }
    claims = {
        "iss": credential["issuer"]["id"],
        "sub": credential["credentialSubject"]["id"],
        "jti": credential["id"],
        "iat": now if now is not None else int(time.time()),
        "nbf": int(valid_from.timestamp()),
    }
    if cert.valid_until is not None:
        valid_until = _end_of(cert.valid_until)
        credential["validUntil"] = valid_until.isoformat()
        claims["exp"] = int(valid_until.timestamp())
    return {**claims, **credential}


def credential_for(cert: Certificate) -> str:
    """The certificate as a signed VC-JWT.

    Only data the QR token's signature still covers is signed again: a record altered in the database after
    issue would otherwise come out of here with a fresh, valid signature.
    """
    check = signing.token_check(cert.token)
    if check.number != cert.number or not check.matches(printed_fields(cert)):
        raise Conflict(_("证书数据与签发时不一致,不能导出电子凭证,请联系发证机构核查"))
    return signing.jws_sign(credential_claims(cert), typ=VC_JWT_TYPE)


# --- Bitstring Status List --------------------------------------------------------------------------------


def encode_status_list(indices: Iterable[int], length_bits: int) -> str:
    """Multibase base64url (prefix "u", no padding) of the GZIP-compressed bitstring; index 0 is the left-most
    bit of the first byte."""
    if length_bits < STATUS_LIST_BLOCK_BITS or length_bits % 8:
        raise ValueError("a status list has at least 131072 bits, in whole bytes")
    bits = bytearray(length_bits // 8)
    for index in indices:
        bits[index >> 3] |= 0x80 >> (index & 7)
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """The uncompressed bitstring of an encodedList (for tests and tools)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix u)")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@dataclass(frozen=True)
class ListIssuer:
    """Whose certificates a status list covers and who it says issued it: an organisation, the issuer an
    imported certificate names, or (key None) the platform, for the platform-wide lists."""

    key: str | None
    issuer: dict | str
    certificates: Callable[[QuerySet[Certificate]], QuerySet[Certificate] | list[Certificate]]


_ISSUER_KEY_RE = re.compile(r"o([1-9][0-9]{0,17})|h([0-9a-f]{32})")


def list_issuer(key: str | None) -> ListIssuer:
    """The issuer a status list URL names; NotFound for a key that names none."""
    if key is None:
        return ListIssuer(None, _site(), lambda qs: qs)
    match = _ISSUER_KEY_RE.fullmatch(key)
    if match is None:
        raise NotFound(_("没有这个发证机构的状态列表"))
    if match.group(1):
        org_id = int(match.group(1))
        cert = (
            Certificate.objects.filter(organisation_id=org_id)
            .select_related("organisation")
            .only("organisation_id", "organisation_name", "organisation__credit_code", "organisation__name")
            .first()
        )
        if cert is None:
            raise NotFound(_("没有这个发证机构的状态列表"))
        return ListIssuer(key, _issuer(cert), lambda qs: qs.filter(organisation_id=org_id))
    wanted = match.group(2)
    # Imported certificates name few distinct issuers: find the name whose derived id this is.
    names = (
        Certificate.objects.filter(organisation__isnull=True)
        .values_list("organisation_name", flat=True)
        .distinct()
        .order_by()
    )
    name = next((n for n in names if _historical_issuer_uuid(n).hex == wanted), None)
    if name is None:
        raise NotFound(_("没有这个发证机构的状态列表"))
    cert = Certificate(organisation_name=name)
    return ListIssuer(key, _issuer(cert), lambda qs: qs.filter(organisation__isnull=True, organisation_name=name))


def status_list_capacity(number: int) -> int:
    """The positions list `number` holds; NotFound for a list that was never opened. List 0 is served from the
    start, at the standard capacity, before the first issuance makes its row."""
    capacity = StatusList.objects.filter(number=number).values_list("capacity", flat=True).first()
    if capacity is None and number != 0:
        raise NotFound(_("没有这个状态列表"))
    return capacity or STATUS_LIST_CAPACITY


def status_list_bits(purpose: str, issuer: ListIssuer | None = None, number: int = 0) -> tuple[list[int], int]:
    """The set positions for a purpose in list `number` (of one issuer's certificates, or all) and the list length
    in bits: the list's capacity (the range positions are drawn from) in whole 131,072-bit blocks, or more if a
    position beyond it exists; so the length says nothing about how many were issued, by whom."""
    statuses = STATUS_PURPOSES[purpose]
    issuer = issuer or list_issuer(None)
    capacity = status_list_capacity(number)
    in_list = Certificate.objects.filter(status_list=number)
    # Only the flagged certificates are read: a few values per revoked certificate, never a row per certificate.
    flagged = list(
        issuer.certificates(in_list.filter(status__in=statuses)).values_list("status_index", flat=True).order_by()
    )
    # One probe of the (status_list, status_index) index.
    highest = max([capacity - 1, in_list.aggregate(top=Max("status_index"))["top"] or 0])
    blocks = highest // STATUS_LIST_BLOCK_BITS + 1
    return sorted(flagged), blocks * STATUS_LIST_BLOCK_BITS


def status_list_claims(
    purpose: str, *, issuer_key: str | None = None, number: int = 0, now: datetime.datetime | None = None
) -> dict:
    """The status list credential, unsigned. Its issuer is the issuer of the credentials pointing at it, as Open
    Badges verifiers check (openbadgeslib's OB3Verifier with status checks: "the list's issuer must equal the
    badge's issuer"), so `iss` and `issuer.id` are the organisation's; the platform-wide list names the platform."""
    if purpose not in STATUS_PURPOSES:
        raise NotFound(_("没有这种状态列表"))
    if issuer_key is None and number != 0:
        raise NotFound(_("没有这个状态列表"))  # the platform-wide list is list 0's, kept for old credentials only
    issuer = list_issuer(issuer_key)
    now = now or timezone.now()
    indices, length = status_list_bits(purpose, issuer, number)
    url = status_list_url(purpose, issuer_key, number)
    return {
        "iss": issuer.issuer if isinstance(issuer.issuer, str) else issuer.issuer["id"],
        "iat": int(now.timestamp()),
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.issuer,
        "validFrom": now.astimezone(timezone.get_default_timezone()).isoformat(timespec="seconds"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(indices, length),
            "ttl": STATUS_LIST_TTL_SECONDS * 1000,
        },
    }


@dataclass(frozen=True)
class PublishedList:
    """A signed status list credential and its entity tag (a digest of the token) for conditional requests."""

    token: str
    etag: str


def status_list_published(purpose: str, issuer_key: str | None = None, number: int = 0) -> PublishedList:
    """The signed BitstringStatusListCredential (VC-JWT) for `revocation` or `suspension`, list `number` of one
    issuer, or the platform-wide list 0; raises NotFound for any other purpose, an unknown issuer or a list never
    opened. Kept in the cache for a minute (the `ttl` it announces), so a status change shows within a minute and
    a crowd of verifiers costs one query a minute per list; a status change starts a new generation of cached lists
    at once."""
    if purpose not in STATUS_PURPOSES:
        raise NotFound(_("没有这种状态列表"))
    if issuer_key is not None and _ISSUER_KEY_RE.fullmatch(issuer_key) is None:
        raise NotFound(_("没有这个发证机构的状态列表"))  # before it becomes part of a cache key
    key = _CACHE_KEY.format(generation=_generation(), issuer=issuer_key or "platform", number=number, purpose=purpose)
    published = cache.get(key)
    if published is None:
        token = signing.jws_sign(status_list_claims(purpose, issuer_key=issuer_key, number=number), typ=VC_JWT_TYPE)
        published = PublishedList(token, '"' + hashlib.sha256(token.encode("ascii")).hexdigest()[:32] + '"')
        cache.set(key, published, STATUS_LIST_TTL_SECONDS)
    return published


def status_list_credential(purpose: str, issuer_key: str | None = None, number: int = 0) -> str:
    """The signed status list credential alone (see status_list_published)."""
    return status_list_published(purpose, issuer_key, number).token


def _generation() -> int:
    generation = cache.get(_GENERATION_KEY)
    if generation is None:
        cache.add(_GENERATION_KEY, 1, None)
        generation = cache.get(_GENERATION_KEY) or 1
    return generation


def status_lists_invalidate() -> None:
    """Forget every cached status list (all issuers', the platform's) in one step, so a revocation or suspension
    is published on the next request; a bulk change calls this once."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): any new value starts a fresh generation
        cache.set(_GENERATION_KEY, int(time.time() * 1000), None)
