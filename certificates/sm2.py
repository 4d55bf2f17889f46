"""SM2 with SM3 (国密, GB/T 32918.2-2016 signatures, GB/T 32905 hash) for certificate tokens.

The arithmetic is Tongsuo's (the OpenSSL fork maintained for the Chinese algorithms), through its Python binding
`tongsuopy`: a signature costs well under a millisecond in C where the pure-Python gmssl takes tens (measured in
bench/bench_sm2.py). The signed value is e = SM3(Z ‖ M) with Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) and the
default user ID 1234567812345678, as GB/T 32918.2 and GM/T 0009 define it, so any SM2 implementation verifies it
(the tests check with gmssl and with the OpenSSL command line). Signatures travel as r ‖ s, 32 bytes each in
tokens, and as the DER SEQUENCE {r, s} (GM/T 0009) in CMS and X.509, where the PDFs' SM2 signatures go
(certificates/docsign_sm2.py).
"""

from __future__ import annotations

from asn1crypto import algos
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec

USER_ID = b"1234567812345678"  # what Tongsuo's SM2 DigestSign uses when none is set (GB/T 32918 default)
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

#: The OIDs of GB/T 33560 (the 国密 OID registry) that CMS and X.509 carry (GM/T 0010, GB/T 35275).
SM3_OID = "1.2.156.10197.1.401"
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
SM2_CURVE_OID = "1.2.156.10197.1.301"


def _name_oids_for_asn1crypto() -> None:
    """asn1crypto (which pyHanko builds its CMS with) knows no 国密 OIDs, and pyHanko names digest and signature
    algorithms by asn1crypto's names: registering "sm3" and "sm2_sm3" once, here, is what lets pyHanko write an
    SM2-with-SM3 SignerInfo (certificates/docsign_sm2.py). Nothing else changes meaning: before this an SM3 or
    SM2 OID was only a dotted string to asn1crypto, and pyHanko hashes by the name through `cryptography`, whose
    OpenSSL has SM3. Idempotent; asn1crypto builds its reverse maps lazily, so both maps are set."""
    for oid_class, oid, name in (
        (algos.DigestAlgorithmId, SM3_OID, "sm3"),
        (algos.SignedDigestAlgorithmId, SM2_WITH_SM3_OID, "sm2_sm3"),
    ):
        oid_class._map[oid] = name
        if oid_class._reverse_map is not None:
            oid_class._reverse_map[name] = oid


_name_oids_for_asn1crypto()


def sign(private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    der = private_key.sign(message, ec.ECDSA(hashes.SM3()))  # Tongsuo computes Z and e = SM3(Z ‖ M) itself
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_der(private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """The signature as CMS and X.509 carry it: DER SEQUENCE {r, s}, over SM3(Z ‖ M) with the default user ID."""
    return private_key.sign(message, ec.ECDSA(hashes.SM3()))


def verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < _N and 0 < s < _N):
        return False
    try:
        public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SM3()))
    except Exception:  # tongsuopy raises its own InvalidSignature (or a binding error on a malformed value)
        return False
    return True


def generate_private_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SM2())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SM2):
        raise ValueError("not an SM2 key")
    return key


def public_point(public_key: ec.EllipticCurvePublicKey) -> tuple[bytes, bytes]:
    numbers = public_key.public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
