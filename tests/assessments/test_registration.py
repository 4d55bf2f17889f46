import datetime

import pytest
from django.db import connection
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from assessments.models import Registration
from assessments.registration import (
    registration_review,
    registration_submit,
    registration_update_evidence,
    registration_withdraw,
    registrations_import,
)
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.accreditation.conftest import xlsx
from tests.conftest import client_for, require_postgres
from tests.factories import PersonFactory, bound_user, make_ric, member

pytestmark = pytest.mark.django_db

WORKER_ID = "220102199501012238"


@pytest.fixture
def worker(db):
    """张伟's own login, bound to his person record by proof (accounts.binding)."""
    person = PersonFactory(name="张伟", id_number=WORKER_ID, phone="13500000004")
    return bound_user("zhangwei", person=person, password="pw-zhang-2026")


def submit(worker, plan, level="4", **kw):
    data = {
        "name": "张伟",
        "id_type": "ric",
        "id_number": WORKER_ID,
        "pledge": True,
        "work_years": 7,
        "phone": "13500000004",
        **kw,
    }
    return registration_submit(actor=Actor.for_user(worker), plan_id=plan.id, level=level, **data)


def test_a_worker_registers_and_sees_the_route_met(worker, plan):
    reg = submit(worker, plan)
    worker.refresh_from_db()
    assert worker.person.id_number == WORKER_ID
    assert reg.status == "submitted" and reg.eligibility_status == "eligible"
    assert reg.eligibility["met_route"] == "W6"
    assert "6年" in reg.eligibility["summary"]


def test_the_explanation_names_what_is_missing(worker, plan):
    reg = submit(worker, plan, level="3", work_years=3)
    assert reg.eligibility_status == "ineligible"
    text = str(reg.eligibility)
    assert "四级" in text and "不足5年" in text


def test_declared_certificates_need_a_reviewer(worker, plan):
    reg = submit(
        worker,
        plan,
        level="3",
        work_years=6,
        prior_certificates=[{"occupation_code": "6-31-01-03", "level": "4", "issued_on": "2019-06-30"}],
    )
    assert reg.eligibility_status == "needs_review"


def test_the_pledge_is_required(worker, plan):
    with pytest.raises(ValidationFailed, match="诚信承诺"):
        submit(worker, plan, pledge=False)
    assert not Registration.objects.exists()


def test_duplicates_are_refused(worker, plan):
    submit(worker, plan)
    with pytest.raises(Conflict) as exc:
        submit(worker, plan)
    assert exc.value.code == "duplicate_registration"
    assert Registration.objects.count() == 1


def test_a_worker_registers_only_themselves(worker, plan):
    submit(worker, plan)
    with pytest.raises(PermissionDenied):
        submit(worker, plan, level="3", id_number=make_ric(seq=77))


def test_registration_outside_the_window_is_refused(worker, plan):
    type(plan).objects.filter(pk=plan.id).update(registration_closes=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(Conflict, match="报名时间"):
        submit(worker, plan)


def test_capacity_is_enforced(worker, filed_org, org_admin):
    from .conftest import make_candidates, make_plan

    small = make_plan(filed_org, org_admin, capacity=2)
    make_candidates(small, org_admin, "4", 2, approve=False)
    with pytest.raises(Conflict, match="已满"):
        submit(worker, small)


def test_review_approve_reject_more_evidence(worker, plan, org_admin, other_org_admin):
    reg = submit(worker, plan)
    with pytest.raises(NotFound):
        registration_review(actor=Actor.for_user(other_org_admin), registration_id=reg.id, decision="approve")
    with pytest.raises(ValidationFailed):
        registration_review(actor=Actor.for_user(org_admin), registration_id=reg.id, decision="reject")
    r = registration_review(
        actor=Actor.for_user(org_admin), registration_id=reg.id, decision="more_evidence", reason="请上传工作年限证明"
    )
    assert r.status == "more_evidence"
    r = registration_update_evidence(actor=Actor.for_user(worker), registration_id=reg.id, work_years=8)
    assert r.status == "submitted" and float(r.work_years) == 8
    r = registration_review(actor=Actor.for_user(org_admin), registration_id=reg.id, decision="approve")
    assert r.status == "approved"
    with pytest.raises(Conflict):
        registration_review(actor=Actor.for_user(org_admin), registration_id=reg.id, decision="reject", reason="x")


def test_an_ineligible_registration_cannot_be_approved(worker, plan, org_admin):
    reg = submit(worker, plan, level="3", work_years=1)
    with pytest.raises(Conflict) as exc:
        registration_review(actor=Actor.for_user(org_admin), registration_id=reg.id, decision="approve")
    assert exc.value.code == "ineligible"


def test_withdrawal_before_the_exam(worker, plan):
    reg = submit(worker, plan)
    assert registration_withdraw(actor=Actor.for_user(worker), registration_id=reg.id).status == "withdrawn"
    assert submit(worker, plan).status == "submitted"  # may register again after withdrawing


# --- Bulk registration -------------------------------------------------------------------------------------

HEADER = [
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "申报等级",
    "工作年限",
    "已取得本职业证书等级",
    "证书编号",
    "发证日期",
]


def _row(i, level="四级", years=7):
    return [
        f"职工{i}",
        "居民身份证",
        make_ric(birth=datetime.date(1992, 2, 2), seq=200 + i),
        "",
        level,
        years,
        "",
        "",
        "",
    ]


@pytest.fixture
def employer_admin(other_filed_org):
    return other_filed_org.admin


def test_bulk_all_or_nothing_names_bad_rows(plan, employer_admin):
    rows = [HEADER, _row(1), _row(2), _row(3), _row(1)]
    rows[2][2] = "123456"
    rows[3][4] = "二级"
    report = registrations_import(actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx(rows))
    errors = {e.row: e.reason for e in report.errors}
    assert set(errors) == {3, 4, 5}
    assert "18位" in errors[3] and "不含所报等级" in errors[4] and "重复" in errors[5]
    assert report.created == 0 and not Registration.objects.exists()


def test_bulk_partial_saves_good_rows_and_reports_the_rest(plan, employer_admin):
    rows = [HEADER, _row(1), _row(2), _row(3)]
    rows[2][2] = "123456"
    report = registrations_import(
        actor=Actor.for_user(employer_admin), plan_id=plan.id, upload=xlsx(rows), partial=True
    )
    assert report.created == 2 and [e.row for e in report.errors] == [3]
    assert Registration.objects.count() == 2
    assert set(Registration.objects.values_list("source", flat=True)) == {"bulk"}
    assert Registration.objects.first().employer_name == "长春另一评价机构"


def test_bulk_needs_an_employer_admin(plan, worker):
    with pytest.raises(PermissionDenied):
        registrations_import(actor=Actor.for_user(worker), plan_id=plan.id, upload=xlsx([HEADER, _row(1)]))


def test_bulk_api_reports_rows(plan, employer_admin):
    r = client_for(employer_admin).post(
        f"/api/v1/assessments/plans/{plan.id}/registrations/import", {"file": xlsx([HEADER, _row(1), _row(1)])}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 3


# --- Visibility -------------------------------------------------------------------------------------------


def test_candidates_see_their_own_and_organisations_theirs(worker, plan, org_admin, other_org_admin, jlc_officer):
    reg = submit(worker, plan)
    assert client_for(worker).get(f"/api/v1/assessments/registrations/{reg.id}").status_code == 200
    assert client_for(org_admin).get(f"/api/v1/assessments/registrations/{reg.id}").status_code == 200
    assert client_for(other_org_admin).get(f"/api/v1/assessments/registrations/{reg.id}").status_code == 404
    assert client_for(jlc_officer).get(f"/api/v1/assessments/registrations/{reg.id}").status_code == 404
    stranger = member(Role.WORKER)
    assert client_for(stranger).get(f"/api/v1/assessments/registrations/{reg.id}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_registrations_make_one(plan_tx):
    require_postgres()
    import threading

    plan, users = plan_tx
    barrier = threading.Barrier(len(users))
    outcomes = []

    def go(user):
        try:
            barrier.wait()
            submit(user, plan)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # recorded for the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * (len(users) - 1) + ["ok"]
    assert Registration.objects.count() == 1


@pytest.fixture
def plan_tx(transactional_db, cc_officer, org, org_admin):
    from .conftest import file_organisation, make_plan

    file_organisation(org, org_admin, cc_officer)
    plan = make_plan(org, org_admin)
    # Several sessions of the same person (one account each would be refused; use one account, many requests).
    person = PersonFactory(name="张伟", id_number=WORKER_ID)
    user = bound_user("zhangwei", person=person, password="pw-zhang-2026")
    return plan, [user] * 6
