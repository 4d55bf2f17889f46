"""SM2 with SM3 (国密) signatures on certificate PDFs, for the certificates of regions that chose SM2.

pyHanko lays out the PDF signature and the CMS exactly as for ECDSA (certificates/docsign.py); what differs is here:

- the CMS names SM3 (1.2.156.10197.1.401) as its digestAlgorithm and SM2-with-SM3 (1.2.156.10197.1.501, GB/T
  33560) as the SignerInfo's signatureAlgorithm (the OIDs are named for asn1crypto once, in certificates/sm2.py);
  the container itself stays RFC 5652 CMS, as PAdES requires, not GB/T 35275's own content types; pyHanko digests
  the signed byte range with SM3 through `cryptography`;
- `SM2Signer` signs the DER of the signed attributes with SM2: e = SM3(Z ‖ M), Z computed with the default user ID
  1234567812345678 (GB/T 32918.2, GM/T 0009 — the ID every SM2 verifier assumes when none is agreed), the
  signature written as DER SEQUENCE {r, s};
- the certificates: an SM2 document-signing certificate and the SM2 root that issued it, X.509 signed SM2-with-SM3.
  Neither `cryptography` (no SM2 curve) nor tongsuopy (no X.509) builds one, so they are assembled with asn1crypto
  and signed with Tongsuo. Only the development chain is built here; in production the operator brings a key and
  chain from a CA that issues SM2 certificates.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from asn1crypto import algos, pem
from asn1crypto import x509 as asn1_x509
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore
from tongsuopy.crypto import serialization
from tongsuopy.crypto.asymciphers import ec

from . import sm2

MD_ALGORITHM = "sm3"
SIGNATURE_MECHANISM = "sm2_sm3"
#: Adobe's "document signing" extended key usage, as on the ECDSA signer's certificate.
ADOBE_DOCUMENT_SIGNING = "1.2.840.113583.1.1.5"


class SM2Signer(signers.Signer):
    """A pyHanko signer whose raw signature is SM2 with SM3, made by Tongsuo."""

    def __init__(
        self,
        *,
        private_key: ec.EllipticCurvePrivateKey,
        signing_cert: asn1_x509.Certificate,
        cert_registry: SimpleCertificateStore,
    ):
        super().__init__(
            signing_cert=signing_cert,
            cert_registry=cert_registry,
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": SIGNATURE_MECHANISM}),
        )
        self._private_key = private_key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != MD_ALGORITHM:
            raise SigningError(f"SM2 signs with SM3, not {digest_algorithm}")
        if dry_run:
            return bytes(72)  # the longest DER SEQUENCE {r, s} of two 32-byte integers
        return sm2.sign_der(self._private_key, data)


def _spki(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the public key's bit string (an identifier, not a security function)."""
    point = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return hashlib.sha1(point, usedforsecurity=False).digest()


def _name(subject: dict[str, str]) -> asn1_x509.Name:
    return asn1_x509.Name.build(subject)


def certificate(
    *,
    subject: dict[str, str],
    public_key: ec.EllipticCurvePublicKey,
    issuer: dict[str, str],
    issuer_key: ec.EllipticCurvePrivateKey,
    ca: bool,
    not_before: datetime.datetime,
    days: int,
) -> asn1_x509.Certificate:
    """An X.509 v3 certificate signed SM2-with-SM3 by `issuer_key`: a CA (path length 0) or a document signer."""
    extensions = [
        {
            "extn_id": "basic_constraints",
            "critical": True,
            "extn_value": {"ca": True, "path_len_constraint": 0} if ca else {"ca": False},
        },
        {
            "extn_id": "key_usage",
            "critical": True,
            "extn_value": {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"},
        },
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(public_key)},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": _key_id(issuer_key.public_key())},
        },
    ]
    if not ca:
        extensions.append(
            {
                "extn_id": "extended_key_usage",
                "critical": False,
                "extn_value": [ADOBE_DOCUMENT_SIGNING, "email_protection"],
            }
        )
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(127),
            "signature": {"algorithm": SIGNATURE_MECHANISM},
            "issuer": _name(issuer),
            "validity": {
                "not_before": asn1_x509.Time({"utc_time": not_before}),
                "not_after": asn1_x509.Time({"utc_time": not_before + datetime.timedelta(days=days)}),
            },
            "subject": _name(subject),
            "subject_public_key_info": asn1_x509.PublicKeyInfo.load(_spki(public_key)),
            "extensions": extensions,
        }
    )
    return asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": SIGNATURE_MECHANISM},
            "signature_value": sm2.sign_der(issuer_key, tbs.dump()),
        }
    )


def generate(*, root_subject: dict[str, str], signer_subject: dict[str, str]) -> tuple[bytes, bytes]:
    """A development SM2 root (its key discarded) and a document-signing certificate it issued: (key PEM, chain PEM)."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(minutes=5)
    root_key = sm2.load_private_key(sm2.generate_private_key_pem())
    root = certificate(
        subject=root_subject,
        public_key=root_key.public_key(),
        issuer=root_subject,
        issuer_key=root_key,
        ca=True,
        not_before=now,
        days=3650,
    )
    key_pem = sm2.generate_private_key_pem()
    key = sm2.load_private_key(key_pem)
    signer = certificate(
        subject=signer_subject,
        public_key=key.public_key(),
        issuer=root_subject,
        issuer_key=root_key,
        ca=False,
        not_before=now,
        days=1825,
    )
    return key_pem, chain_pem_of([signer, root])


def chain_pem_of(chain: list[asn1_x509.Certificate]) -> bytes:
    return b"".join(pem.armor("CERTIFICATE", cert.dump()) for cert in chain)


def load(key_pem: bytes, chain_pem: bytes) -> tuple[SM2Signer, str]:
    """The signer for a key and its chain (signer's certificate first), and the signer's common name.
    Raises ValueError when either cannot be read or the first certificate is not the key's."""
    key = sm2.load_private_key(key_pem)
    chain = [asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(chain_pem, multiple=True)]
    if not chain:
        raise ValueError("no certificate in the chain")
    if chain[0].public_key.dump() != _spki(key.public_key()):
        raise ValueError("the first certificate is not the signing key's")
    signer = SM2Signer(
        private_key=key, signing_cert=chain[0], cert_registry=SimpleCertificateStore.from_certs(chain[1:])
    )
    return signer, chain[0].subject.native["common_name"]
