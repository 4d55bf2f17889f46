"""国密 PDF signatures (issue 15 item 3): the certificate PDFs of a region that chose SM2 are signed SM2 with SM3,
and that is checked here without the code that signed them. The CMS is cut out of the file by its /ByteRange,
parsed with asn1crypto, and checked with gmssl (a pure-Python SM2/SM3 the platform does not sign with): SM3 of the
signed bytes against the messageDigest attribute, then the SM2 signature over the DER of the signed attributes
with the signer certificate's key, with the default user ID 1234567812345678 (GM/T 0009) that gmssl assumes and the
platform signs with. The OpenSSL command line checks the same signature and the chain once more."""

import base64
import datetime
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import algos, cms, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gmssl import func as gmssl_func
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificates import docsign, docsign_sm2, sm2
from certificates.models import Certificate
from certificates.presenters import certificate_pdf
from occupations.models import Region
from tests.conftest import client_for
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db

SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM3 = "1.2.156.10197.1.401"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


@pytest.fixture
def sm2_cert(sm2_region, finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.select_related("level", "person", "organisation").order_by("number").first()


# --- the independent check ------------------------------------------------------------------------------------


def _point(certificate: asn1_x509.Certificate) -> bytes:
    """x ‖ y of the certificate's SM2 key (the bit string is 04 ‖ x ‖ y)."""
    raw = certificate["tbs_certificate"]["subject_public_key_info"]["public_key"].native
    assert raw[0] == 4 and len(raw) == 65
    return raw[1:]


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def gmssl_verify(point: bytes, der_signature: bytes, message: bytes) -> bool:
    """gmssl's SM2 verification of a DER SEQUENCE {r, s} over `message`, user ID 1234567812345678."""
    rs = algos.DSASignature.load(der_signature).native
    verifier = gmssl_sm2.CryptSM2(public_key=point.hex(), private_key="")
    verifier.public_key = point.hex()  # the constructor lstrip("04")s a key whose hex starts with "04"
    return bool(verifier.verify_with_sm3(f"{rs['r']:064x}{rs['s']:064x}", message))


@dataclass
class GmCheck:
    signature_algorithm: str
    digest_algorithm: str
    whole_file: bool
    digest_matches: bool
    signature_valid: bool
    signer: asn1_x509.Certificate

    @property
    def ok(self) -> bool:
        return (
            self.signature_algorithm == SM2_WITH_SM3
            and self.digest_algorithm == SM3
            and self.digest_matches
            and self.signature_valid
        )


def gm_check(pdf: bytes) -> GmCheck:
    a, b, c, d = (int(n) for n in re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf).groups())
    contents = pdf[a + b : c]
    assert contents.startswith(b"<") and contents.endswith(b">")
    signed_data = cms.ContentInfo.load(bytes.fromhex(contents[1:-1].decode()), strict=False)["content"]
    (signer_info,) = signed_data["signer_infos"]
    serial = signer_info["sid"].chosen["serial_number"].native
    (signer,) = [c.chosen for c in signed_data["certificates"] if c.chosen.serial_number == serial]
    attributes = {a["type"].dotted: a["values"][0] for a in signer_info["signed_attrs"]}

    signed_bytes = pdf[a : a + b] + pdf[c : c + d]
    sm3_hex = gmssl_sm3.sm3_hash(gmssl_func.bytes_to_list(signed_bytes))
    # What is signed is the attributes' DER as a SET OF (tag 0x31), not as the [0] IMPLICIT they travel in.
    signed_attributes = b"\x31" + signer_info["signed_attrs"].dump()[1:]
    return GmCheck(
        signature_algorithm=signer_info["signature_algorithm"]["algorithm"].dotted,
        digest_algorithm=signer_info["digest_algorithm"]["algorithm"].dotted,
        whole_file=a == 0 and c + d == len(pdf),
        digest_matches=attributes[MESSAGE_DIGEST].native.hex() == sm3_hex,
        signature_valid=gmssl_verify(_point(signer), signer_info["signature"].native, signed_attributes),
        signer=signer,
    )


def _published_sm2_chain(client) -> list[asn1_x509.Certificate]:
    response = client.get("/.well-known/document-signing-chain-sm2.pem")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pem-file"
    return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(response.content, multiple=True)]


def _issued_by(cert: asn1_x509.Certificate, root: asn1_x509.Certificate) -> bool:
    """The certificate's own SM2-with-SM3 signature, checked with gmssl and the root's key."""
    assert cert["signature_algorithm"]["algorithm"].dotted == SM2_WITH_SM3
    return gmssl_verify(_point(root), cert["signature_value"].native, cert["tbs_certificate"].dump())


# --- tests ----------------------------------------------------------------------------------------------------


def test_a_pdf_from_an_sm2_region_is_signed_sm2_with_sm3_and_gmssl_verifies_it(client, sm2_cert, org_admin):
    response = client_for(org_admin).get(f"/api/v1/certificates/{sm2_cert.id}/pdf")
    assert response.status_code == 200
    check = gm_check(response.content)
    assert check.signature_algorithm == SM2_WITH_SM3 and check.digest_algorithm == SM3
    assert check.whole_file and check.digest_matches and check.signature_valid

    signer, root = _published_sm2_chain(client)
    assert check.signer.dump() == signer.dump(), "signed by the published SM2 certificate"
    assert _issued_by(signer, root) and _issued_by(root, root)
    published = client.get("/.well-known/sm2-keys.json").json()["document_signing"]
    assert sm2.SM2_WITH_SM3_OID in published["algorithm"] and published["chain"].endswith("chain-sm2.pem")
    assert _b64url(published["x"]) + _b64url(published["y"]) == _point(signer)
    # The ECDSA chain is still the one for everyone else, and a different key.
    ecdsa = client.get("/.well-known/document-signing-chain.pem").content
    assert b"BEGIN CERTIFICATE" in ecdsa and pem.unarmor(ecdsa, multiple=True).__next__()[2] != signer.dump()


def test_an_edited_sm2_pdf_fails_the_check(sm2_cert):
    signed = certificate_pdf(sm2_cert)
    assert gm_check(signed).ok
    # The page's size changed by a point, in place (no offset moves), inside the signed range.
    assert signed.count(b"/MediaBox [ 0 0 595.275591") == 1
    edited = signed.replace(b"/MediaBox [ 0 0 595.275591", b"/MediaBox [ 0 0 596.275591")
    check = gm_check(edited)
    assert not check.digest_matches and not check.ok
    # A signature altered by one bit fails too (the attributes it covers are intact).
    marker = signed.index(b"/Contents <") + len(b"/Contents <")
    der_length = 2 * len(cms.ContentInfo.load(bytes.fromhex(_contents_hex(signed)), strict=False).dump())
    last = marker + der_length - 1  # the signature's last hex digit is the CMS's last: no unsigned attributes
    flipped = signed[:last] + (b"0" if signed[last : last + 1] != b"0" else b"1") + signed[last + 1 :]
    assert not gm_check(flipped).signature_valid


def _contents_hex(pdf: bytes) -> str:
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    return pdf[start : pdf.index(b">", start)].decode()


def test_openssl_verifies_the_sm2_pdf_signature_and_chain(client, sm2_cert, tmp_path):
    pdf = certificate_pdf(sm2_cert)
    a, b, c, _d = (int(n) for n in re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf).groups())
    signed_data = cms.ContentInfo.load(bytes.fromhex(pdf[a + b + 1 : c - 1].decode()), strict=False)["content"]
    (signer_info,) = signed_data["signer_infos"]
    signer, root = _published_sm2_chain(client)
    (tmp_path / "signer.pem").write_bytes(pem.armor("CERTIFICATE", signer.dump()))
    (tmp_path / "root.pem").write_bytes(pem.armor("CERTIFICATE", root.dump()))
    (tmp_path / "attrs").write_bytes(b"\x31" + signer_info["signed_attrs"].dump()[1:])
    (tmp_path / "sig").write_bytes(signer_info["signature"].native)
    command = ["openssl", "pkeyutl", "-verify", "-certin", "-inkey", str(tmp_path / "signer.pem"), "-rawin"]
    command += ["-in", str(tmp_path / "attrs"), "-sigfile", str(tmp_path / "sig"), "-digest", "sm3"]
    command += ["-pkeyopt", "distid:1234567812345678"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr
    # OpenSSL 3.0 checks an SM2 certificate's signature with an empty user ID unless told the GM/T 0009 default.
    command = ["openssl", "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", str(tmp_path / "root.pem")]
    done = subprocess.run([*command, str(tmp_path / "signer.pem")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_choice_is_read_when_the_pdf_is_made_and_others_stay_ecdsa(client, finalised_plan, org_admin, issue):
    issue(finalised_plan, org_admin)
    cert = Certificate.objects.select_related("level", "person", "organisation").order_by("number").first()
    ecdsa_pdf = certificate_pdf(cert)
    (signature,) = PdfFileReader(io.BytesIO(ecdsa_pdf)).embedded_signatures
    assert signature.signer_info["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    assert signature.signer_info["digest_algorithm"]["algorithm"].native == "sha256"

    Region.objects.filter(code="220000").update(signature_algorithm="SM2")
    assert gm_check(certificate_pdf(cert)).ok
    # The PDF made before the change keeps verifying as it was: nothing it carries depends on the choice.
    root = asn1_x509.Certificate.load(
        list(pem.unarmor(client.get("/.well-known/document-signing-chain.pem").content, multiple=True))[-1][2]
    )
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    assert status.intact and status.valid and status.trusted


def test_a_batch_print_from_an_sm2_region_is_sm2_signed(sm2_cert, org_admin):
    response = client_for(org_admin).get(f"/api/v1/certificates/plans/{sm2_cert.registration.plan_id}/print.pdf")
    assert response.status_code == 200
    assert gm_check(response.content).ok


# --- renewing the document-signing keys ------------------------------------------------------------------------


def _replace(path: Path, data: bytes) -> None:
    """As an operator's deploy would: a new file renamed over the old one."""
    tmp = path.with_suffix(".new")
    tmp.write_bytes(data)
    tmp.replace(path)


def test_an_sm2_pdf_signed_before_the_key_is_renewed_still_verifies(settings, tmp_path, sm2_cert):
    settings.DOCUMENT_SIGNING_DIR = str(tmp_path / "documents")
    directory = docsign.signing_dir(docsign.SM2)
    directory.mkdir(parents=True)
    root_key = sm2.load_private_key(sm2.generate_private_key_pem())
    root_subject = {"country_name": "CN", "common_name": "省级 SM2 根证书(测试)"}
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    root = docsign_sm2.certificate(
        subject=root_subject,
        public_key=root_key.public_key(),
        issuer=root_subject,
        issuer_key=root_key,
        ca=True,
        not_before=now,
        days=30,
    )

    def install(common_name: str) -> None:
        key_pem = sm2.generate_private_key_pem()
        signer = docsign_sm2.certificate(
            subject={"country_name": "CN", "common_name": common_name},
            public_key=sm2.load_private_key(key_pem).public_key(),
            issuer=root_subject,
            issuer_key=root_key,
            ca=False,
            not_before=now,
            days=30,
        )
        _replace(directory / docsign.KEY_FILE, key_pem)
        _replace(directory / docsign.CHAIN_FILE, docsign_sm2.chain_pem_of([signer, root]))

    install("电子证书签章 2026")
    old = certificate_pdf(sm2_cert)
    install("电子证书签章 2027")
    new = certificate_pdf(sm2_cert)

    old_check, new_check = gm_check(old), gm_check(new)
    assert old_check.ok and new_check.ok
    assert old_check.signer.subject.native["common_name"] == "电子证书签章 2026"
    assert new_check.signer.subject.native["common_name"] == "电子证书签章 2027"
    assert _issued_by(old_check.signer, root) and _issued_by(new_check.signer, root)


def _ecdsa_certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(not ca, not ca, False, False, False, ca, ca, False, False),
            critical=True,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def test_an_ecdsa_pdf_signed_before_the_key_is_renewed_still_validates(
    settings, tmp_path, finalised_plan, org_admin, issue
):
    issue(finalised_plan, org_admin)
    cert = Certificate.objects.select_related("level", "person", "organisation").order_by("number").first()
    settings.DOCUMENT_SIGNING_DIR = str(tmp_path / "documents")
    directory = docsign.signing_dir(docsign.ECDSA)
    directory.mkdir(parents=True)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _ecdsa_certificate("省级根证书(测试)", root_key, "省级根证书(测试)", root_key, ca=True)

    def install(common_name: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        signer = _ecdsa_certificate(common_name, key, "省级根证书(测试)", root_key, ca=False)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain = signer.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
        _replace(directory / docsign.KEY_FILE, key_pem)
        _replace(directory / docsign.CHAIN_FILE, chain)

    install("电子证书签章 2026")
    old = certificate_pdf(cert)
    install("电子证书签章 2027")
    new = certificate_pdf(cert)
    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    for pdf, name in ((old, "2026"), (new, "2027")):
        (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        status = validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert name in status.signing_cert.subject.human_friendly


# --- production ------------------------------------------------------------------------------------------------


def test_without_an_sm2_document_key_an_sm2_pdf_is_unavailable_not_ecdsa(
    sm2_cert, org_admin, client, settings, tmp_path
):
    settings.DOCUMENT_SIGNING_DIR = str(tmp_path / "documents")
    docsign.chain_pem(docsign.ECDSA)  # the operator installed the ECDSA key only
    settings.SIGNING_KEYS_GENERATE = False
    response = client_for(org_admin).get(f"/api/v1/certificates/{sm2_cert.id}/pdf")
    assert response.status_code == 503 and response.json()["code"] == "signing_unavailable"
    assert client.get("/.well-known/document-signing-chain-sm2.pem").status_code == 503
    keys = client.get("/.well-known/sm2-keys.json")
    assert keys.status_code == 200 and keys.json()["document_signing"] is None and keys.json()["keys"]
    with pytest.raises(docsign.SigningKeysMissing, match="SM2"):
        docsign.sign_pdf(b"%PDF-1.7", reason="x", scheme=docsign.SM2)
