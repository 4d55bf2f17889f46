"""E-certificate identifiers (GB/T 36904) and metadata (GB/T 36903), issue 15 item 2."""

import itertools
import string

import pytest
from django.core.cache import cache

from accounts.identity import mask_name
from certificates import ecert
from certificates.models import Certificate
from certificates.pdf import render_html
from certificates.presenters import certificate_view
from tests.certificates.test_credentials import b64url, credential_url
from tests.conftest import client_for
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db

ALPHABET = string.digits + string.ascii_uppercase


def iso7064_mod37_36_ok(chars: str) -> bool:
    """ISO/IEC 7064 hybrid MOD 37,36 as the standard states the check: run over the characters before the check
    character, then the remainder plus the check character is 1 (mod 36). Written apart from certificates/ecert.py
    on purpose."""
    remainder = 36
    for char in chars[:-1]:
        remainder = ((remainder + ALPHABET.index(char)) % 36 or 36) * 2 % 37
    return (remainder + ALPHABET.index(chars[-1])) % 36 == 1


@pytest.fixture
def issued(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.select_related("organisation", "level").order_by("number").first()


def test_the_check_character_satisfies_iso_7064():
    body = "1.2.156.3005.2.DEVJNDJ001.91220102MA0000001X.S000022000102263000001.001"
    identifier = f"{body}.{ecert.check_character(body)}"
    assert ecert.is_valid(identifier)
    assert iso7064_mod37_36_ok(identifier.replace(".", ""))
    assert ecert.check_character("0794") != ecert.check_character("0795")


def test_any_mistyped_character_and_nearly_every_swapped_pair_is_caught():
    body = "1.2.156.3005.2.DEVJNDJ001.91220102MA0000001X.S000022000102263000001.001"
    identifier = f"{body}.{ecert.check_character(body)}"
    positions = [i for i, char in enumerate(identifier) if char != "."]
    for i in positions:
        for replacement in ALPHABET:
            if replacement == identifier[i]:
                continue
            changed = identifier[:i] + replacement + identifier[i + 1 :]
            if ecert.IDENTIFIER_RE.fullmatch(changed):
                assert not ecert.is_valid(changed), changed
    swaps = caught = 0
    for a, b in itertools.pairwise(positions):
        if b == a + 1 and identifier[a] != identifier[b]:
            swapped = identifier[:a] + identifier[b] + identifier[a] + identifier[b + 1 :]
            swaps += 1
            caught += not ecert.is_valid(swapped)
    assert caught / swaps > 0.9, (caught, swaps)  # a hybrid system catches nearly every swapped pair, not all


def test_an_issued_certificate_carries_its_identifier_everywhere(client, issued, org_admin):
    identifier = issued.ecert_id
    assert identifier == ecert.identifier_for(issued)
    assert identifier.startswith(f"1.2.156.3005.2.DEVJNDJ001.{issued.organisation.credit_code}.{issued.number}.001.")
    assert ecert.is_valid(identifier)
    assert identifier in render_html([certificate_view(issued)])
    token = client_for(org_admin).get(credential_url(issued)).content.decode()
    import json

    claims = json.loads(b64url(token.split(".")[1]))
    assert claims["credentialSubject"]["licenseNumber"] == identifier and identifier in claims["description"]
    assert client.get(f"/api/v1/verify/{issued.token}").json()["certificate"]["ecert_id"] == identifier
    assert identifier in client.get(f"/v/{issued.token}").content.decode()


def test_verification_accepts_the_identifier_and_masks_the_name(client, issued):
    cache.clear()
    data = client.get(f"/api/v1/verify/{issued.ecert_id}").json()
    assert data["status"] == "valid" and data["certificate"]["number"] == issued.number
    assert data["certificate"]["holder_name"] == mask_name(issued.holder_name) != issued.holder_name
    assert data["certificate"]["has_photo"] is False
    page = client.get(f"/v/{issued.ecert_id}")
    assert page.status_code == 200 and 'data-status="valid"' in page.content.decode()
    assert issued.holder_name not in page.content.decode()


def test_a_wrong_identifier_is_forged_or_unknown(client, issued):
    cache.clear()
    body, check = issued.ecert_id.rsplit(".", 1)
    wrong = ALPHABET[(ALPHABET.index(check) + 1) % 36]
    assert client.get(f"/api/v1/verify/{body}.{wrong}").json()["status"] == "forged"
    other_issuer = body.replace(issued.organisation.credit_code, "91220102MA00000XXX")
    assert client.get(f"/api/v1/verify/{other_issuer}.{ecert.check_character(other_issuer)}").json()["status"] in (
        "forged",
    )
    missing = body.replace(issued.number, issued.number[:-6] + "999999")
    assert client.get(f"/api/v1/verify/{missing}.{ecert.check_character(missing)}").json()["status"] == "unknown"
    later = body[:-3] + "002"
    assert client.get(f"/api/v1/verify/{later}.{ecert.check_character(later)}").json()["status"] == "unknown"


def test_an_identifier_of_an_altered_record_is_forged(client, issued):
    cache.clear()
    Certificate.objects.filter(pk=issued.pk).update(holder_name="李鬼")
    assert client.get(f"/api/v1/verify/{issued.ecert_id}").json()["status"] == "forged"


def test_identifier_lookups_are_rate_limited(client, issued, settings):
    cache.clear()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "verify_lookup": (3, 3600)}  # no window ends mid-test
    answers = [client.get(f"/api/v1/verify/{issued.ecert_id}").status_code for _ in range(4)]
    assert answers[-1] == 429 and set(answers[:-1]) == {200}
    assert client.get(f"/api/v1/verify/{issued.ecert_id}").json()["code"] == "rate_limited"
    # The QR token is not limited: a scan proves possession of the signed code.
    assert client.get(f"/api/v1/verify/{issued.token}").status_code == 200


def test_the_metadata_record(issued, org_admin, other_org_admin):
    r = client_for(org_admin).get(f"/api/v1/certificates/{issued.id}/ecert")
    assert r.status_code == 200
    record = r.json()
    assert record["证照标识"] == issued.ecert_id and record["证照编号"] == issued.number
    assert (
        record["证照类型名称"] == "职业技能等级证书" and record["证照颁发机构代码"] == issued.organisation.credit_code
    )
    assert record["照面信息"]["职业技能等级"] == issued.level.label
    assert client_for(other_org_admin).get(f"/api/v1/certificates/{issued.id}/ecert").status_code == 404


def test_an_imported_certificate_without_a_filed_issuer_has_none(cc_officer):
    from tests.certificates.test_reporting import qualification_row, upload

    assert upload(cc_officer, [qualification_row()]).status_code == 200
    assert Certificate.objects.get(number="2201000300012345").ecert_id is None
