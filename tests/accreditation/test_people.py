"""Assessors, trainers and supervisors under 考培分离; training records one by one and by spreadsheet."""

import datetime

import pytest

from accounts.actors import Actor
from accounts.models import Membership, Person, Role
from accreditation import people
from accreditation.models import Appointment, TrainingRecord
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.conftest import client_for
from tests.factories import invited, make_ric, member

from .conftest import xlsx

pytestmark = pytest.mark.django_db

ASSESSOR_ID = make_ric(seq=11)
TRAINEE_ID = make_ric(birth=datetime.date(1998, 3, 3), seq=12)
TRAINER_ID = make_ric(birth=datetime.date(1985, 7, 7), seq=13)


def register(actor_user, org, role, *, code="6-31-01-03", max_level="3", id_number=ASSESSOR_ID, name="李建国"):
    return people.appointment_register(
        actor=Actor.for_user(actor_user),
        role=role,
        name=name,
        id_type="ric",
        id_number=id_number,
        organisation_id=org.id,
        scopes=[{"occupation_code": code, "max_level": max_level}],
    )


def test_an_organisation_registers_an_assessor(org, org_admin):
    a = register(org_admin, org, "assessor")
    assert a.status == "active" and a.scopes.get().max_level.code == "3"
    assert Person.objects.get(id_number=ASSESSOR_ID).name == "李建国"


def test_an_assessor_needs_a_highest_level(org, org_admin):
    with pytest.raises(ValidationFailed, match="最高"):
        register(org_admin, org, "assessor", max_level=None)


def test_trainer_and_assessor_of_the_same_occupation_in_one_organisation_is_refused(org, org_admin):
    trainer = register(org_admin, org, "trainer", max_level=None)
    with pytest.raises(Conflict) as exc:
        register(org_admin, org, "assessor")
    assert exc.value.code == "separation_conflict"
    assert "考培分离" in exc.value.message and str(trainer.id) in exc.value.message
    assert Appointment.objects.filter(role="assessor").count() == 0


def test_the_conflict_is_refused_in_the_other_direction_too(org, org_admin):
    register(org_admin, org, "internal_supervisor", max_level=None)
    with pytest.raises(Conflict, match="考培分离"):
        register(org_admin, org, "trainer", max_level=None)


def test_different_occupations_or_organisations_are_allowed(org, org_admin, other_org, other_org_admin):
    register(org_admin, org, "trainer", code="4-03-02-07", max_level=None)
    assert register(org_admin, org, "assessor", code="6-31-01-03")
    assert register(other_org_admin, other_org, "assessor", code="4-03-02-07")


def test_a_withdrawn_trainer_no_longer_blocks(org, org_admin):
    trainer = register(org_admin, org, "trainer", max_level=None)
    people.appointment_withdraw(actor=Actor.for_user(org_admin), appointment_id=trainer.id, reason="离职")
    assert register(org_admin, org, "assessor")


def test_registering_twice_is_a_conflict(org, org_admin):
    register(org_admin, org, "assessor")
    with pytest.raises(Conflict, match="已登记"):
        register(org_admin, org, "assessor")


def test_only_the_admin_registers_and_others_see_nothing(org, org_admin, other_org_admin):
    assessor_user = member(Role.ASSESSOR, organisation=org)
    with pytest.raises(PermissionDenied):
        register(assessor_user, org, "assessor")
    with pytest.raises(NotFound):
        register(other_org_admin, org, "assessor")


def test_registering_a_person_with_an_account_grants_no_role(org, org_admin):
    """The role comes only by the person's own account accepting an invitation (accounts.invitations)."""
    user = member(Role.WORKER, person=Person.objects.create(name="李建国", id_type="ric", id_number=ASSESSOR_ID))
    appointment = register(org_admin, org, "assessor")
    assert not Membership.objects.filter(user=user, organisation=org).exists()
    invited(user, appointment, org_admin)
    assert Membership.objects.filter(user=user, role="assessor", organisation=org).exists()


def test_the_bureau_registers_external_supervisors(cc_officer, changchun_bureau, jilin_city_bureau, org_admin):
    a = people.appointment_register(
        actor=Actor.for_user(cc_officer),
        role="external_supervisor",
        name="周敏",
        id_type="ric",
        id_number=ASSESSOR_ID,
        bureau_id=changchun_bureau.id,
        scopes=[{"occupation_code": "6-31-01-03"}],
    )
    assert a.bureau == changchun_bureau and a.organisation is None
    with pytest.raises(NotFound):
        people.appointment_register(
            actor=Actor.for_user(cc_officer),
            role="external_supervisor",
            name="周敏",
            id_type="ric",
            id_number=ASSESSOR_ID,
            bureau_id=jilin_city_bureau.id,
            scopes=[{"occupation_code": "6-31-01-03"}],
        )
    with pytest.raises(PermissionDenied):
        people.appointment_register(
            actor=Actor.for_user(org_admin),
            role="external_supervisor",
            name="周敏",
            id_type="ric",
            id_number=ASSESSOR_ID,
            bureau_id=changchun_bureau.id,
            scopes=[{"occupation_code": "6-31-01-03"}],
        )


def test_people_api_is_scoped(org, org_admin, other_org_admin):
    c = client_for(org_admin)
    r = c.post(
        "/api/v1/accreditation/appointments",
        {
            "role": "assessor",
            "name": "李建国",
            "id_number": ASSESSOR_ID,
            "organisation_id": org.id,
            "scopes": [{"occupation_code": "6-31-01-03", "max_level": "3"}],
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["person_id_number"] == ASSESSOR_ID[:6] + "********" + ASSESSOR_ID[-4:]
    assert len(c.get("/api/v1/accreditation/appointments").json()["items"]) == 1
    assert client_for(other_org_admin).get("/api/v1/accreditation/appointments").json()["items"] == []


# --- Training records -------------------------------------------------------------------------------------

HEADER = [
    "学员姓名",
    "学员证件类型",
    "学员证件号码",
    "培训教师姓名",
    "培训教师证件类型",
    "培训教师证件号码",
    "职业编码",
    "开始日期",
    "结束日期",
]


@pytest.fixture
def provider(org):
    org.provides_training = True
    org.save()
    return org


def good_row(i: int) -> list:
    return [
        f"学员{i}",
        "居民身份证",
        make_ric(birth=datetime.date(1999, 1, 1), seq=100 + i),
        "陈晓东",
        "",
        TRAINER_ID,
        "6-31-01-03",
        datetime.date(2026, 3, 1),
        "2026-04-30",
    ]


def test_one_record_is_saved(provider, org_admin):
    rec = people.training_record_create(
        actor=Actor.for_user(org_admin),
        provider_id=provider.id,
        trainee_name="张伟",
        trainee_id_number=TRAINEE_ID,
        trainer_name="陈晓东",
        trainer_id_number=TRAINER_ID,
        occupation_code="6-31-01-03",
        start="2026-03-01",
        end="2026-04-30",
    )
    assert rec.trainee.id_number == TRAINEE_ID and rec.end == datetime.date(2026, 4, 30)


def test_a_non_training_organisation_cannot_record_training(org, org_admin):
    with pytest.raises(Conflict, match="培训机构"):
        people.training_record_create(
            actor=Actor.for_user(org_admin),
            provider_id=org.id,
            trainee_name="张伟",
            trainee_id_number=TRAINEE_ID,
            trainer_name="陈晓东",
            trainer_id_number=TRAINER_ID,
            occupation_code="6-31-01-03",
            start="2026-03-01",
            end="2026-04-30",
        )


def test_a_good_spreadsheet_is_imported_whole(provider, org_admin):
    report = people.training_records_import(
        actor=Actor.for_user(org_admin),
        provider_id=provider.id,
        upload=xlsx([HEADER] + [good_row(i) for i in range(5)]),
    )
    assert report.ok and report.created == 5 and report.total == 5
    assert TrainingRecord.objects.count() == 5


def test_bad_rows_are_named_and_nothing_is_saved(provider, org_admin):
    rows = [HEADER, good_row(1), good_row(2), good_row(3), good_row(4), good_row(5), good_row(1)]
    rows[2][2] = "220102199901011235"  # wrong check digit, on spreadsheet row 3
    rows[3][6] = "9-99-99-99"  # unknown occupation, row 4
    rows[4][7], rows[4][8] = "2026-05-01", "2026-04-01"  # ends before it starts, row 5
    rows[5][0] = ""  # no name, row 6
    report = people.training_records_import(actor=Actor.for_user(org_admin), provider_id=provider.id, upload=xlsx(rows))
    errors = {e.row: e.reason for e in report.errors}
    assert set(errors) == {3, 4, 5, 6, 7}
    assert "校验位" in errors[3] and "职业编码" in errors[4] and "结束日期" in errors[5]
    assert "姓名" in errors[6] and "重复" in errors[7]
    assert report.created == 0 and TrainingRecord.objects.count() == 0 and Person.objects.count() == 0


def test_a_spreadsheet_missing_a_column_is_refused(provider, org_admin):
    with pytest.raises(ValidationFailed, match="职业编码"):
        people.training_records_import(
            actor=Actor.for_user(org_admin),
            provider_id=provider.id,
            upload=xlsx([HEADER[:6] + HEADER[7:], good_row(1)[:6] + good_row(1)[7:]]),
        )


def test_a_non_spreadsheet_is_refused(provider, org_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationFailed, match="xlsx"):
        people.training_records_import(
            actor=Actor.for_user(org_admin), provider_id=provider.id, upload=SimpleUploadedFile("a.xlsx", b"name,id\n")
        )


def test_a_row_already_on_file_fails_the_whole_upload(provider, org_admin):
    people.training_records_import(
        actor=Actor.for_user(org_admin), provider_id=provider.id, upload=xlsx([HEADER, good_row(1)])
    )
    report = people.training_records_import(
        actor=Actor.for_user(org_admin), provider_id=provider.id, upload=xlsx([HEADER, good_row(2), good_row(1)])
    )
    assert [e.row for e in report.errors] == [3] and "已存在" in report.errors[0].reason
    assert TrainingRecord.objects.count() == 1


def test_the_import_api_reports_rows(provider, org_admin, other_org_admin):
    bad = [HEADER, good_row(1)]
    bad[1][2] = "123"
    r = client_for(org_admin).post(
        "/api/v1/accreditation/training-records/import", {"provider_id": provider.id, "file": xlsx(bad)}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2
    r = client_for(other_org_admin).post(
        "/api/v1/accreditation/training-records/import",
        {"provider_id": provider.id, "file": xlsx([HEADER, good_row(1)])},
    )
    assert r.status_code == 404
    r = client_for(org_admin).post(
        "/api/v1/accreditation/training-records/import",
        {"provider_id": provider.id, "file": xlsx([HEADER, good_row(1)])},
    )
    assert r.status_code == 200 and r.json()["created"] == 1


def test_the_template_downloads(client):
    r = client.get("/accreditation/training-template.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
