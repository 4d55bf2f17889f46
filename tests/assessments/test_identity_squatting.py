"""Identity squatting by an organisation's import (issue 13, item 1): a spreadsheet that names an existing person's
ID number under another name makes neither a new record nor a rename, but a case the bureau of the region decides
with evidence (keep the record, or correct it), audited. Other bureaus and everyone else cannot see the case."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from accounts.models import IdentityConflict, Person
from accreditation.people import appointment_register
from assessments.models import Registration
from assessments.registration import registrations_import
from core.errors import Conflict
from core.models import AuditEntry
from tests.accreditation.conftest import xlsx
from tests.conftest import client_for
from tests.factories import appointed_since, make_ric, member

from .test_registration import HEADER, _row

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def employer_admin(other_filed_org):
    return other_filed_org.admin


@pytest.fixture
def recorded(plan, employer_admin):
    """职工1 registered by the employer once: the platform's record for that ID number says 职工1."""
    report = registrations_import(actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx([HEADER, _row(1)]))
    assert report.ok
    return Person.objects.get(name="职工1")


def test_an_import_naming_a_known_id_number_otherwise_is_a_case_not_a_record(plan, employer_admin, recorded):
    Registration.objects.all().delete()
    squatting = _row(1)
    squatting[0] = "冒名者"
    report = registrations_import(
        actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx([HEADER, squatting, _row(2)])
    )
    assert report.created == 0 and [e.row for e in report.errors] == [2]
    assert "另一姓名" in report.errors[0].reason and "人社部门核查" in report.errors[0].reason
    assert "职工1" not in report.errors[0].reason  # the recorded name is not revealed to whoever typed the number
    # No new record, no rename, no registration: the whole upload rolled back ...
    assert Person.objects.filter(id_number=recorded.id_number).get().name == "职工1"
    assert not Person.objects.filter(name="冒名者").exists() and not Registration.objects.exists()
    # ... but the case for the bureau outlived the rollback.
    case = IdentityConflict.objects.get()
    assert (case.person, case.claimed_name, case.source, case.status) == (recorded, "冒名者", "import", "open")
    assert case.organisation == plan.organisation and case.region_code.startswith("2201")
    assert AuditEntry.objects.filter(action="identity.conflict_open", object_id=str(case.pk)).exists()
    again = registrations_import(
        actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx([HEADER, squatting])
    )
    assert not again.ok and IdentityConflict.objects.count() == 1  # the same question is one case


def test_an_appointment_under_another_name_is_a_case(filed_org, org_admin, recorded):
    with pytest.raises(Conflict) as exc:
        appointment_register(
            actor=Actor.for_user(org_admin),
            role="assessor",
            valid_from=appointed_since(),
            name="冒名者",
            id_type="ric",
            id_number=recorded.id_number,
            scopes=[{"occupation_code": "6-31-01-03", "max_level": "3"}],
            organisation_id=filed_org.id,
        )
    case = IdentityConflict.objects.get()
    assert exc.value.code == "identity_conflict" and case.source == "appointment"
    assert Person.objects.get(pk=recorded.pk).name == "职工1"


@pytest.fixture
def case(plan, employer_admin, recorded):
    squatting = _row(1)
    squatting[0] = "职工壹"
    registrations_import(actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx([HEADER, squatting]))
    return IdentityConflict.objects.get()


def _resolve(user, case, **data):
    return client_for(user).post(f"/api/v1/accounts/identity-conflicts/{case.pk}/resolve", data)


def test_the_bureau_keeps_the_record_with_evidence(case, cc_officer, recorded):
    evidence = SimpleUploadedFile("户籍证明.pdf", PDF)
    response = _resolve(cc_officer, case, decision="keep", resolution="核验身份证原件,姓名为职工1", evidence=evidence)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "kept" and response.json()["has_evidence"]
    case.refresh_from_db()
    assert (case.status, case.resolved_by) == ("kept", cc_officer) and case.evidence.name.endswith(".pdf")
    assert Person.objects.get(pk=recorded.pk).name == "职工1"
    entry = AuditEntry.objects.get(action="identity.conflict_resolve")
    assert entry.reason == "核验身份证原件,姓名为职工1" and entry.after["status"] == "kept"
    assert _resolve(cc_officer, case, decision="correct", resolution="再改").status_code == 409  # decided once


def test_the_bureau_corrects_the_record(case, cc_officer, recorded):
    response = _resolve(cc_officer, case, decision="correct", resolution="户籍系统显示已更名为职工壹")
    assert response.status_code == 200 and response.json()["status"] == "corrected"
    assert Person.objects.get(pk=recorded.pk).name == "职工壹"
    rename = AuditEntry.objects.get(action="person.rename")
    assert (rename.before, rename.after["name"]) == ({"name": "职工1"}, "职工壹")


def test_a_decision_needs_a_conclusion_and_a_real_document(case, cc_officer):
    assert _resolve(cc_officer, case, decision="keep", resolution=" ").json()["details"]["field"] == "resolution"
    assert _resolve(cc_officer, case, decision="maybe", resolution="x").json()["details"]["field"] == "decision"
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf")
    response = _resolve(cc_officer, case, decision="keep", resolution="x", evidence=fake)
    assert response.status_code == 422 and response.json()["details"]["field"] == "evidence"
    case.refresh_from_db()
    assert case.status == "open" and not AuditEntry.objects.filter(action="identity.conflict_resolve").exists()


def test_only_the_regions_bureau_sees_and_decides(case, jlc_officer, employer_admin, province_officer):
    assert client_for(jlc_officer).get(f"/api/v1/accounts/identity-conflicts/{case.pk}").status_code == 404
    assert _resolve(jlc_officer, case, decision="keep", resolution="x").status_code == 404
    assert client_for(jlc_officer).get("/api/v1/accounts/identity-conflicts").json()["items"] == []
    assert _resolve(employer_admin, case, decision="correct", resolution="x").status_code == 403
    assert client_for(member("worker")).get(f"/accounts/identity-conflicts/{case.pk}/").status_code == 403
    # The province oversees every city in it.
    listed = client_for(province_officer).get("/api/v1/accounts/identity-conflicts?status=open").json()["items"]
    assert [c["id"] for c in listed] == [case.pk]
    case.refresh_from_db()
    assert case.status == "open"


def test_the_bureau_page_lists_and_decides(case, cc_officer, recorded):
    client = client_for(cc_officer)
    listing = client.get("/accounts/identity-conflicts/").content.decode()
    assert f'href="/accounts/identity-conflicts/{case.pk}/"' in listing and "职工壹" in listing
    assert recorded.id_number not in listing  # masked
    response = client.post(
        f"/accounts/identity-conflicts/{case.pk}/", {"decision": "keep", "resolution": "核验证件,维持"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "kept"


def test_a_new_person_is_still_made_when_the_number_is_new(plan, employer_admin):
    row = _row(5)
    row[2] = make_ric(birth=datetime.date(1991, 7, 7), seq=77)
    assert registrations_import(actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx([HEADER, row])).ok
    assert not IdentityConflict.objects.exists()
