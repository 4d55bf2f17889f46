"""The filing status flow, each refused transition, catalogue refusals, prefixes and expiry."""

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Role
from accreditation import services
from accreditation.models import Filing, Organisation, PrefixCounter
from accreditation.selectors import scope_allows
from core.audit import audit_verify
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry, Notification
from occupations.models import Level, Occupation, Qualification
from tests.conftest import client_for, require_postgres
from tests.factories import OrganisationFactory, member, region

from .conftest import SCOPE, pdf_upload

pytestmark = pytest.mark.django_db


def A(user):
    return Actor.for_user(user)


def test_the_whole_flow_approves_and_assigns_a_prefix(approved, org, cc_officer):
    approved.refresh_from_db()
    org.refresh_from_db()
    assert approved.status == Filing.Status.APPROVED
    assert approved.valid_from == timezone.localdate()
    assert approved.valid_until > approved.valid_from + datetime.timedelta(days=3 * 365 - 3)
    assert org.number_prefix == "S000022000001"
    assert len(org.number_prefix) == 13
    actions = list(AuditEntry.objects.filter(object_type="accreditation.filing").values_list("action", flat=True))
    assert actions == ["filing.create", "filing.attach", "filing.submit", "filing.start_review", "filing.approve"]
    assert AuditEntry.objects.get(action="filing.approve").region_code == "220102"
    assert audit_verify().ok
    assert Notification.objects.filter(title="备案已通过").exists()


def test_returned_filings_can_be_corrected_and_resubmitted(under_review, org_admin, cc_officer):
    services.filing_return(actor=A(cc_officer), filing_id=under_review.id, reason="缺少场地证明")
    f = services.filing_update_scope(
        actor=A(org_admin), filing_id=under_review.id, scope=[{"occupation_code": "6-31-01-03", "levels": ["5"]}]
    )
    assert [str(line) for line in f.scope_lines.all()] == ["电工(五级)"]
    assert services.filing_submit(actor=A(org_admin), filing_id=f.id).status == "submitted"
    assert AuditEntry.objects.get(action="filing.return").reason == "缺少场地证明"


def test_reject_needs_a_reason_and_is_final(under_review, cc_officer, org_admin):
    with pytest.raises(ValidationFailed):
        services.filing_reject(actor=A(cc_officer), filing_id=under_review.id, reason="  ")
    services.filing_reject(actor=A(cc_officer), filing_id=under_review.id, reason="不具备考核场地")
    with pytest.raises(Conflict):
        services.filing_submit(actor=A(org_admin), filing_id=under_review.id)


def test_suspend_reinstate_revoke(approved, cc_officer, org):
    occ, lv = Occupation.objects.get(code="6-31-01-03"), Level.objects.get(code="3")
    assert scope_allows(org, occ, lv, timezone.localdate()).allowed
    services.filing_suspend(actor=A(cc_officer), filing_id=approved.id, reason="督查发现考评员不足")
    decision = scope_allows(org, occ, lv, timezone.localdate())
    assert not decision.allowed and "暂停" in decision.reason
    services.filing_reinstate(actor=A(cc_officer), filing_id=approved.id, reason="已整改")
    services.filing_revoke(actor=A(cc_officer), filing_id=approved.id, reason="违规发证")
    assert not scope_allows(org, occ, lv, timezone.localdate()).allowed
    with pytest.raises(Conflict):
        services.filing_reinstate(actor=A(cc_officer), filing_id=approved.id, reason="x")


def test_scope_allows_names_what_is_missing(approved, org):
    today = timezone.localdate()
    level2 = Level.objects.get(code="2")
    d = scope_allows(org, Occupation.objects.get(code="6-31-01-03"), level2, today)
    assert not d.allowed and "不含二级/技师" in d.reason
    d = scope_allows(org, Occupation.objects.get(code="6-18-02-04"), level2, today)
    assert not d.allowed and "不在机构备案范围内" in d.reason


# --- Refused transitions: wrong role, wrong region, wrong state -------------------------------------------


def test_only_the_organisation_admin_submits(draft, org, cc_officer, other_org_admin):
    assessor = member(Role.ASSESSOR, organisation=org)
    with pytest.raises(PermissionDenied):
        services.filing_submit(actor=A(assessor), filing_id=draft.id)
    with pytest.raises(NotFound):
        services.filing_submit(actor=A(other_org_admin), filing_id=draft.id)
    with pytest.raises(NotFound):
        services.filing_submit(actor=A(cc_officer), filing_id=draft.id)
    assert Filing.objects.get(pk=draft.id).status == "draft"


def test_the_organisation_cannot_approve_itself(under_review, org_admin):
    with pytest.raises(PermissionDenied):
        services.filing_approve(actor=A(org_admin), filing_id=under_review.id)
    assert Filing.objects.get(pk=under_review.id).status == "under_review"


def test_a_bureau_of_another_city_cannot_review(submitted, jlc_officer):
    with pytest.raises(NotFound):
        services.filing_start_review(actor=A(jlc_officer), filing_id=submitted.id)
    assert Filing.objects.get(pk=submitted.id).status == "submitted"


def test_the_province_may_review_its_cities(submitted, province_officer):
    assert services.filing_start_review(actor=A(province_officer), filing_id=submitted.id).status == "under_review"


@pytest.mark.parametrize("action", ["filing_approve", "filing_suspend", "filing_revoke", "filing_reinstate"])
def test_wrong_state_is_a_conflict_and_changes_nothing(submitted, cc_officer, action):
    kwargs = {} if action == "filing_approve" else {"reason": "x"}
    with pytest.raises(Conflict):
        getattr(services, action)(actor=A(cc_officer), filing_id=submitted.id, **kwargs)
    assert Filing.objects.get(pk=submitted.id).status == "submitted"
    assert not Organisation.objects.get(pk=submitted.organisation_id).number_prefix


def test_submitting_without_attachments_is_refused(org, org_admin):
    filing = services.filing_create(actor=A(org_admin), organisation_id=org.id, scope=SCOPE)
    with pytest.raises(ValidationFailed, match="申请材料"):
        services.filing_submit(actor=A(org_admin), filing_id=filing.id)


def test_one_open_application_at_a_time(draft, org, org_admin):
    with pytest.raises(Conflict):
        services.filing_create(actor=A(org_admin), organisation_id=org.id, scope=SCOPE)


# --- Catalogue refusals -------------------------------------------------------------------------------------


def _create(org, admin, code, levels=("5",)):
    return services.filing_create(
        actor=A(admin), organisation_id=org.id, scope=[{"occupation_code": code, "levels": list(levels)}]
    )


def test_a_licensing_qualification_is_refused_with_the_reason(org, org_admin):
    with pytest.raises(ValidationFailed) as exc:
        _create(org, org_admin, "4-07-05-03")
    assert "准入类" in exc.value.message and "消防设施操作员" in exc.value.message
    assert exc.value.details["scope"][0]["occupation_code"] == "4-07-05-03"
    assert not Filing.objects.exists()


def test_a_cancelled_qualification_is_refused(org, org_admin):
    occ = Occupation.objects.create(
        code="4-14-02-99", name="心理咨询师(测试)", qualification=Qualification.objects.get(name="心理咨询师")
    )
    del occ
    with pytest.raises(ValidationFailed) as exc:
        _create(org, org_admin, "4-14-02-99")
    assert "已取消" in exc.value.message and "变相恢复" in exc.value.message


def test_an_occupation_without_a_standard_is_refused(org, org_admin):
    Occupation.objects.create(code="4-99-99-99", name="无标准职业")
    with pytest.raises(ValidationFailed, match="国家职业技能标准"):
        _create(org, org_admin, "4-99-99-99")


def test_a_level_the_standard_lacks_is_refused(org, org_admin):
    from occupations.models import StandardLevel

    StandardLevel.objects.filter(standard__occupation__code="4-03-02-07", level__code="1").delete()
    with pytest.raises(ValidationFailed, match="一级"):
        _create(org, org_admin, "4-03-02-07", ["1", "2"])


def test_every_bad_line_is_reported_at_once(org, org_admin):
    with pytest.raises(ValidationFailed) as exc:
        services.filing_create(
            actor=A(org_admin),
            organisation_id=org.id,
            scope=[
                {"occupation_code": "4-07-05-03", "levels": ["5"]},
                {"occupation_code": "0-00-00-00", "levels": ["5"]},
                {"occupation_code": "6-31-01-03", "levels": []},
            ],
        )
    assert [p["line"] for p in exc.value.details["scope"]] == [1, 2, 3]


# --- Attachments -------------------------------------------------------------------------------------------


def test_attachments_are_checked_by_content_and_size(org, org_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    filing = services.filing_create(actor=A(org_admin), organisation_id=org.id, scope=SCOPE)
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationFailed, match="PDF"):
        services.filing_attach(actor=A(org_admin), filing_id=filing.id, title="x", upload=fake)
    with pytest.raises(ValidationFailed, match="10MB"):
        services.filing_attach(
            actor=A(org_admin), filing_id=filing.id, title="x", upload=pdf_upload(size=10 * 1024 * 1024 + 1)
        )
    png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    att = services.filing_attach(actor=A(org_admin), filing_id=filing.id, title="场地照片", upload=png)
    assert att.content_type == "image/png" and filing.attachments.count() == 1


# --- Prefixes ----------------------------------------------------------------------------------------------


def _approve_new(kind: str, region_code: str, officer) -> Organisation:
    org = OrganisationFactory(kind=kind, region=region(region_code))
    admin = member(Role.ORG_ADMIN, organisation=org)
    f = services.filing_create(actor=A(admin), organisation_id=org.id, scope=SCOPE)
    services.filing_attach(actor=A(admin), filing_id=f.id, title="表", upload=pdf_upload())
    services.filing_submit(actor=A(admin), filing_id=f.id)
    services.filing_start_review(actor=A(officer), filing_id=f.id)
    services.filing_approve(actor=A(officer), filing_id=f.id)
    org.refresh_from_db()
    return org


def test_prefix_serials_count_per_province_and_keep_the_type_letter(province_officer):
    a = _approve_new("Y", "220102", province_officer)
    b = _approve_new("S", "220202", province_officer)
    assert a.number_prefix == "Y000022000001"
    assert b.number_prefix == "S000022000002"


def test_a_renewal_keeps_the_prefix_and_supersedes_the_old_filing(approved, org, org_admin, cc_officer):
    prefix = Organisation.objects.get(pk=org.id).number_prefix
    f = services.filing_create(actor=A(org_admin), organisation_id=org.id, scope=SCOPE)
    services.filing_attach(actor=A(org_admin), filing_id=f.id, title="表", upload=pdf_upload())
    services.filing_submit(actor=A(org_admin), filing_id=f.id)
    services.filing_start_review(actor=A(cc_officer), filing_id=f.id)
    services.filing_approve(actor=A(cc_officer), filing_id=f.id)
    assert Organisation.objects.get(pk=org.id).number_prefix == prefix
    assert Filing.objects.get(pk=approved.id).status == "expired"
    assert PrefixCounter.objects.get(province_code="22").last_serial == 1


def test_a_revoked_organisations_serial_is_never_reused(approved, org, cc_officer):
    services.filing_revoke(actor=A(cc_officer), filing_id=approved.id, reason="违规")
    other = _approve_new("S", "220104", cc_officer)
    assert other.number_prefix != Organisation.objects.get(pk=org.id).number_prefix
    assert other.number_prefix.endswith("000002")


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_get_distinct_prefixes(province_bureau):
    require_postgres()
    officer = member(Role.BUREAU_STAFF, bureau=province_bureau)
    filings = []
    for _ in range(8):
        org = OrganisationFactory(kind="S", region=region("220102"))
        admin = member(Role.ORG_ADMIN, organisation=org)
        f = services.filing_create(actor=A(admin), organisation_id=org.id, scope=SCOPE)
        services.filing_attach(actor=A(admin), filing_id=f.id, title="表", upload=pdf_upload())
        services.filing_submit(actor=A(admin), filing_id=f.id)
        services.filing_start_review(actor=A(officer), filing_id=f.id)
        filings.append(f.id)
    barrier = threading.Barrier(len(filings))
    errors = []

    def approve(fid):
        try:
            barrier.wait()
            services.filing_approve(actor=A(officer), filing_id=fid)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(fid,)) for fid in filings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    prefixes = list(Organisation.objects.exclude(number_prefix=None).values_list("number_prefix", flat=True))
    assert len(prefixes) == 8 and len(set(prefixes)) == 8
    assert sorted(p[-6:] for p in prefixes) == [f"{i:06d}" for i in range(1, 9)]
    assert audit_verify().ok


# --- Expiry and reminders ----------------------------------------------------------------------------------


def test_expiry_by_the_scheduled_task(approved, org):
    from accreditation.tasks import filings_expire_and_remind_task

    Filing.objects.filter(pk=approved.id).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    result = filings_expire_and_remind_task.delay().get()
    assert result["expired"] == 1
    assert Filing.objects.get(pk=approved.id).status == "expired"
    assert AuditEntry.objects.get(action="filing.expire").reason == "备案有效期届满"
    assert "filings-expire-and-remind" in settings.CELERY_BEAT_SCHEDULE
    assert filings_expire_and_remind_task.delay().get()["expired"] == 0


def test_reminders_are_sent_once_per_threshold(approved, org_admin):
    today = timezone.localdate()
    Filing.objects.filter(pk=approved.id).update(valid_until=today + datetime.timedelta(days=60))
    assert services.filings_expire_and_remind(today=today)["reminded"] == 1
    assert services.filings_expire_and_remind(today=today)["reminded"] == 0
    assert services.filings_expire_and_remind(today=today + datetime.timedelta(days=31))["reminded"] == 1
    titles = list(Notification.objects.filter(user=org_admin, title="备案即将到期").values_list("body", flat=True))
    assert len(titles) == 2 and "剩余" in titles[0]


# --- API ----------------------------------------------------------------------------------------------------


def test_the_api_walks_the_flow(org, org_admin, cc_officer):
    c = client_for(org_admin)
    r = c.post(
        "/api/v1/accreditation/filings", {"organisation_id": org.id, "scope": SCOPE}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    fid = r.json()["id"]
    r = c.post(f"/api/v1/accreditation/filings/{fid}/attachments", {"title": "表", "file": pdf_upload()})
    assert r.status_code == 201, r.content
    assert c.post(f"/api/v1/accreditation/filings/{fid}/submit").json()["status"] == "submitted"
    officer = client_for(cc_officer)
    assert [f["id"] for f in officer.get("/api/v1/accreditation/filings/review-queue").json()["items"]] == [fid]
    assert officer.post(f"/api/v1/accreditation/filings/{fid}/start-review").status_code == 200
    r = officer.post(f"/api/v1/accreditation/filings/{fid}/approve", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["number_prefix"] == "S000022000001"
    r = officer.post(f"/api/v1/accreditation/filings/{fid}/suspend", {"reason": ""}, content_type="application/json")
    assert r.status_code == 422


def test_the_api_refuses_other_tenants(draft, other_org_admin, jlc_officer):
    assert client_for(other_org_admin).get(f"/api/v1/accreditation/filings/{draft.id}").status_code == 404
    assert client_for(jlc_officer).post(f"/api/v1/accreditation/filings/{draft.id}/submit").status_code == 404
    assert client_for(jlc_officer).get("/api/v1/accreditation/filings").json()["items"] == []


def test_an_organisation_registers_itself_through_the_api(django_user_model):
    from tests.factories import make_uscc

    user = django_user_model.objects.create_user("neworg", password="pw-123456!")
    payload = {
        "name": "长春新评价中心",
        "kind": "S",
        "credit_code": make_uscc(77),
        "region_code": "220104",
        "contact_name": "刘",
        "contact_phone": "13912345678",
    }
    r = client_for(user).post("/api/v1/accreditation/organisations", payload, content_type="application/json")
    assert r.status_code == 201
    assert client_for(user).get("/api/v1/accounts/me").json()["roles"] == ["org_admin"]
    r = client_for(user).post("/api/v1/accreditation/organisations", payload, content_type="application/json")
    assert r.status_code == 409
    bad = {**payload, "credit_code": payload["credit_code"][:-1] + ("0" if payload["credit_code"][-1] != "0" else "1")}
    r = client_for(user).post("/api/v1/accreditation/organisations", bad, content_type="application/json")
    assert r.status_code == 422 and r.json()["details"]["field"] == "credit_code"


def test_the_default_validity_follows_the_bureaus_policy_and_survives_29_february(cc_officer, changchun_bureau):
    assert services.filing_default_valid_until(A(cc_officer), datetime.date(2026, 3, 1)) == datetime.date(2029, 2, 28)
    assert services.filing_default_valid_until(A(cc_officer), datetime.date(2028, 2, 29)) == datetime.date(2031, 2, 28)
    changchun_bureau.filing_validity_years = 5
    changchun_bureau.save()
    fresh = A(type(cc_officer).objects.get(pk=cc_officer.pk))
    assert services.filing_default_valid_until(fresh, datetime.date(2026, 3, 1)) == datetime.date(2031, 2, 28)


def test_the_filing_pages_forms_read_their_input_like_the_api(under_review, cc_officer, org_admin):
    """Each action has its own URL; a malformed date is a named refusal, not a server error, and changes nothing."""
    officer = client_for(cc_officer)
    page = f"/accreditation/filings/{under_review.id}/"
    r = officer.post(f"{page}approve/", {"valid_until": "2030-13-40"}, follow=True)
    assert r.status_code == 200
    assert "日期格式应为 YYYY-MM-DD" in r.content.decode()
    under_review.refresh_from_db()
    assert under_review.status == "under_review"

    r = officer.post(f"{page}return/", {"reason": ""}, follow=True)
    under_review.refresh_from_db()
    assert under_review.status == "under_review"

    assert client_for(org_admin).post(f"{page}approve/", {}).status_code in (302, 404)
    under_review.refresh_from_db()
    assert under_review.status == "under_review"

    r = officer.post(f"{page}approve/", {"valid_until": "2030-12-31"})
    assert r.status_code == 302
    under_review.refresh_from_db()
    assert under_review.status == "approved" and str(under_review.valid_until) == "2030-12-31"
    assert officer.post(f"{page}no-such-action/").status_code == 404
