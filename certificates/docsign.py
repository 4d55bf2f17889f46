"""PAdES signatures on certificate PDFs: the platform's document-signing key and the chain it publishes.

Every certificate PDF the platform hands out is signed (PAdES baseline B-B: ETSI.CAdES.detached, SHA-256, the
signer's certificate and its chain in the CMS), so a PDF reader shows who signed it and that nothing changed since;
any edit breaks the signature. The signing time is the platform's clock (django.utils.timezone.now), not the
worker's wall clock as pyHanko would read it.

The key material lives in files, like the token key ring (certificates/signing.py), never in the database:

    {DOCUMENT_SIGNING_DIR}/signer.pem   the signing key, PKCS8 PEM, unencrypted, mode 600
    {DOCUMENT_SIGNING_DIR}/chain.pem    the signer's certificate first, then each CA certificate up to the root

DOCUMENT_SIGNING_DIR defaults to `{SIGNING_KEYS_DIR}/documents`. In production the operator puts there a key and a
certificate issued by the CA the province trusts (the platform never generates them: SIGNING_KEYS_GENERATE is off).
In development and tests a root CA and a signer certificate are generated on first use, the root's key thrown away.
`GET /.well-known/document-signing-chain.pem` publishes chain.pem, so anyone can add the root to their reader.

The certificates of a region that chose 国密 (Region.signature_algorithm, the same choice that signs its tokens) are
signed SM2 with SM3 instead (certificates/docsign_sm2.py), by an SM2 key and chain kept the same way one level
down, in {DOCUMENT_SIGNING_DIR}/sm2/, and published at `GET /.well-known/document-signing-chain-sm2.pem` and in
`/.well-known/sm2-keys.json`. The choice is read when the PDF is made (a PDF is signed each time it is handed out),
so a region's change applies to every PDF from then on, while its tokens keep the algorithm they were issued with.

Renewing a key (either algorithm) is replacing the two files; a PDF signed before carries its own signer
certificate in its CMS, so it keeps verifying against the root for as long as the root is trusted.
"""

from __future__ import annotations

import base64
import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSigner, PdfSigningSession
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import docsign_sm2, sm2
from .signing import SigningKeysError, SigningKeysMissing, _exclusive, _write_atomic

#: How a PDF is signed: ECDSA P-256 with SHA-256 (what every PDF reader checks), or SM2 with SM3 (国密).
ECDSA = "ECDSA"
SM2 = "SM2"
SM2_DIR = "sm2"
KEY_FILE = "signer.pem"
CHAIN_FILE = "chain.pem"
FIELD_NAME = "PlatformSeal"
#: Room for the CMS: an ECDSA or SM2 signature and a two-certificate chain take about 1.5 KB; reserving it up front
#: saves pyHanko a dry-run signature per document.
BYTES_RESERVED = 8192
SIGNER_NAME = "电子证书签章"
ROOT_NAME = "文档签名根证书"
#: Adobe's "document signing" extended key usage: readers accept it for signatures on PDFs.
ADOBE_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.2.840.113583.1.1.5")


@dataclass(frozen=True)
class DocumentSigner:
    """The loaded key and chain; `stamp` is what the files looked like when read."""

    stamp: tuple
    signer: signers.Signer
    chain_pem: bytes
    name: str  # the signer certificate's common name, what a reader shows as who signed
    md_algorithm: str


def scheme_for(token_algorithm: str) -> str:
    """The PDF signature that goes with a region's choice of token algorithm (certificates.issuance)."""
    return SM2 if token_algorithm == SM2 else ECDSA


def signing_dir(scheme: str = ECDSA) -> Path:
    configured = getattr(settings, "DOCUMENT_SIGNING_DIR", "")
    base = Path(configured) if configured else Path(settings.SIGNING_KEYS_DIR) / "documents"
    return base / SM2_DIR if scheme == SM2 else base


def _stamp(directory: Path) -> tuple:
    stamps = []
    for name in (KEY_FILE, CHAIN_FILE):
        st = (directory / name).stat()
        stamps.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(stamps)


PLATFORM_NAME = "职业技能等级认定平台"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, PLATFORM_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _generate(directory: Path, scheme: str) -> None:
    if scheme == SM2:
        key_pem, chain = docsign_sm2.generate(
            root_subject=_subject(f"{ROOT_NAME}(SM2,开发环境)"), signer_subject=_subject(f"{SIGNER_NAME}(SM2,开发环境)")
        )
        _write_atomic(directory / KEY_FILE, key_pem, 0o600)
        _write_atomic(directory / CHAIN_FILE, chain, 0o644)
        return
    _generate_ecdsa(directory)


def _subject(common_name: str) -> dict[str, str]:
    return {"country_name": "CN", "organization_name": PLATFORM_NAME, "common_name": common_name}


def _generate_ecdsa(directory: Path) -> None:
    """A development root CA (its key discarded) and a document-signing certificate it issued."""
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{ROOT_NAME}(开发环境)")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{SIGNER_NAME}(开发环境)"))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ADOBE_DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    chain = certificate.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    _write_atomic(directory / KEY_FILE, pem, 0o600)  # the key first: a reader that finds the chain finds the key
    _write_atomic(directory / CHAIN_FILE, chain, 0o644)


def _ensure(directory: Path, scheme: str) -> None:
    if (directory / KEY_FILE).exists() and (directory / CHAIN_FILE).exists():
        return
    if not settings.SIGNING_KEYS_GENERATE:
        kind = "an SM2 key (国密, for the regions that chose SM2)" if scheme == SM2 else "the key"
        raise SigningKeysMissing(
            f"No {scheme} document-signing key: put {kind} ({KEY_FILE}, PKCS8 PEM) and its certificate chain "
            f"({CHAIN_FILE}, the signer's certificate first, then each CA up to the root) in {directory} "
            "(DOCUMENT_SIGNING_DIR), issued by a CA the province's relying parties trust."
        )
    with _exclusive(directory):
        if not ((directory / KEY_FILE).exists() and (directory / CHAIN_FILE).exists()):
            _generate(directory, scheme)


def _load(directory: Path, stamp: tuple, scheme: str) -> DocumentSigner:
    if scheme == SM2:
        chain_pem = (directory / CHAIN_FILE).read_bytes()
        try:
            signer, name = docsign_sm2.load((directory / KEY_FILE).read_bytes(), chain_pem)
        except (ValueError, TypeError) as error:
            raise SigningKeysError(
                f"{directory}: the SM2 document-signing key or chain cannot be used: {error}"
            ) from error
        return DocumentSigner(stamp, signer, chain_pem, name, docsign_sm2.MD_ALGORITHM)
    try:
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None)
        chain_pem = (directory / CHAIN_FILE).read_bytes()
        chain = x509.load_pem_x509_certificates(chain_pem)
    except (ValueError, TypeError) as error:
        raise SigningKeysError(f"{directory}: the document-signing key or chain cannot be read: {error}") from error
    certificate = chain[0]
    if certificate.public_key().public_numbers() != key.public_key().public_numbers():
        raise SigningKeysError(f"{directory}/{CHAIN_FILE}: the first certificate is not the signing key's")
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    as_asn1 = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain]
    signer = signers.SimpleSigner(
        signing_cert=as_asn1[0],
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs(as_asn1[1:]),
    )
    name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return DocumentSigner(stamp=stamp, signer=signer, chain_pem=chain_pem, name=name, md_algorithm="sha256")


_signers: dict[Path, DocumentSigner] = {}


def document_signer(scheme: str = ECDSA) -> DocumentSigner:
    """The signer for this directory, re-read when its files change (a key renewed by the operator)."""
    directory = signing_dir(scheme)
    _ensure(directory, scheme)
    stamp = _stamp(directory)
    cached = _signers.get(directory)
    if cached is not None and cached.stamp == stamp:
        return cached
    loaded = _load(directory, stamp, scheme)
    _signers[directory] = loaded
    return loaded


def chain_pem(scheme: str = ECDSA) -> bytes:
    """What /.well-known/document-signing-chain.pem (and -sm2.pem) serves."""
    return document_signer(scheme).chain_pem


def sm2_published() -> dict | None:
    """The SM2 document-signing certificate as /.well-known/sm2-keys.json names it, beside the token keys; None
    where the platform has no SM2 document key (a production install where no region chose 国密)."""
    try:
        loaded = document_signer(SM2)
    except SigningKeysMissing:
        return None
    certificate = loaded.signer.signing_cert
    point = certificate.public_key["public_key"].native  # 04 ‖ x ‖ y
    return {
        "use": "PDF signatures (PAdES, ETSI.CAdES.detached) of the certificates of regions that chose SM2",
        "algorithm": (
            f"SM2 with SM3: signatureAlgorithm {sm2.SM2_WITH_SM3_OID}, digestAlgorithm {sm2.SM3_OID}, "
            "user ID 1234567812345678"
        ),
        "chain": f"{settings.SITE_URL}/.well-known/document-signing-chain-sm2.pem",
        "subject": certificate.subject.human_friendly,
        "serial_number": format(certificate.serial_number, "x"),
        "x": base64.urlsafe_b64encode(point[1:33]).rstrip(b"=").decode(),
        "y": base64.urlsafe_b64encode(point[33:65]).rstrip(b"=").decode(),
        "pem": asn1_pem.armor("PUBLIC KEY", certificate.public_key.dump()).decode("ascii"),
    }


class _PlatformClockSigner(PdfSigner):
    """pyHanko reads the machine's wall clock for the signing time; the platform's clock decides instead (the one
    every other record of the platform carries, and the one tests can move)."""

    def init_signing_session(self, pdf_out, existing_fields_only=False) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = timezone.now()
        return session


def sign_pdf(pdf: bytes, *, reason: str, scheme: str = ECDSA) -> bytes:
    """The PDF with the platform's PAdES signature added as an incremental update (the rendered bytes unchanged):
    ECDSA with SHA-256, or SM2 with SM3 for a region that chose 国密 (`scheme_for`)."""
    loaded = document_signer(scheme)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=loaded.md_algorithm,
        reason=reason[:200],
        location=settings.SITE_URL,
        name=loaded.name,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = _PlatformClockSigner(meta, signer=loaded.signer).sign_pdf(writer, bytes_reserved=BYTES_RESERVED)
    return output.getvalue()
