"""The public reporting channel (举报): reporting with abuse controls, tracking, and the bureau's handling of the
case through to the exposure list (曝光台)."""

import datetime
import re

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from certificates.models import Certificate
from core.errors import NotFound, ValidationFailed
from core.models import AuditEntry
from occupations.models import Qualification
from oversight import exposures, reports
from oversight.challenge import challenge_new
from oversight.models import Complaint, ComplaintPolicy, Exposure
from tests.assessments.conftest import file_organisation
from tests.conftest import client_for

from .conftest import answer, pdf, report_form

pytestmark = pytest.mark.django_db

DESCRIPTION = "该机构在考前培训时透露考题,培训老师又担任了考评员。"


def _submit(actor=None, **fields) -> tuple[Complaint, str]:
    data = {"kind": "other", "description": DESCRIPTION, "subject_name": "某培训学校", "region_code": "220202"}
    data.update(fields)
    return reports.complaint_submit(actor=actor or Actor.anonymous(), **data)


@pytest.fixture
def issued(finalised_plan, org_admin, issue):
    issue(finalised_plan, org_admin)
    return Certificate.objects.order_by("number").first()


# --- Reporting, anonymously ---------------------------------------------------------------------------------------


def test_anyone_reports_without_an_account_and_gets_a_tracking_code_once(client):
    form = report_form(
        client,
        kind="guazheng",
        description=DESCRIPTION,
        subject_name="吉林某建筑公司",
        region_code="220202",
        reporter_name="李四",
        reporter_contact="13912345678",
    )
    r = client.post("/oversight/report/", {**form, "attachments": [pdf()]})
    assert r.status_code == 302 and r["Location"] == "/oversight/report/done/"
    done = client.get("/oversight/report/done/").content.decode()
    code = re.search(r'id="tracking-code">([A-Z0-9-]+)<', done).group(1)
    assert len(code.replace("-", "")) == 12
    complaint = Complaint.objects.get()
    assert complaint.status == "received" and complaint.region.code == "220202"
    assert complaint.reporter is None and complaint.attachments.count() == 1
    # Only a hash is kept, and the code is not shown a second time.
    assert code.replace("-", "") not in complaint.tracking_hash
    assert client.get("/oversight/report/done/").status_code == 302
    # The audit log records the report without the reporter.
    entry = AuditEntry.objects.get(action="complaint.submit")
    assert "李四" not in str(entry.after) and "13912345678" not in str(entry.after)
    assert entry.region_code == "220202" and entry.organisation_id is None


def test_the_tracking_page_shows_progress_and_the_answer_but_never_notes(client, jlc_officer):
    complaint, code = _submit()
    officer = Actor.for_user(jlc_officer)
    reports.complaint_accept(actor=officer, complaint_id=complaint.id, assignee_id=jlc_officer.id)
    reports.complaint_note_add(actor=officer, complaint_id=complaint.id, text="内部记录:约谈培训老师")
    r = client.post("/oversight/track/", {"code": reports.format_tracking_code(code).lower()})
    html = r.content.decode()
    assert r.status_code == 200 and 'data-status="investigating"' in html and complaint.number in html
    assert "约谈" not in html
    reports.complaint_close(
        actor=officer,
        complaint_id=complaint.id,
        outcome="unsubstantiated",
        finding="未发现培训人员参与考评",
        reply="经核查,未发现您反映的问题。",
    )
    html = client.post("/oversight/track/", {"code": code}).content.decode()
    assert 'data-status="closed"' in html and "未发现您反映的问题" in html
    assert client.post("/oversight/track/", {"code": "AAAA-BBBB-CCCC"}).status_code == 404


def test_the_challenge_is_required_and_a_wrong_answer_saves_nothing(client):
    form = report_form(client, kind="other", description=DESCRIPTION, subject_name="某公司", region_code="220102")
    wrong = str(int(form["challenge_answer"]) + 1)
    r = client.post("/oversight/report/", {**form, "challenge_answer": wrong})
    assert r.status_code == 422 and "验证题" in r.content.decode()
    r = client.post("/oversight/report/", {**form, "challenge_token": ""})
    assert r.status_code == 422
    assert not Complaint.objects.exists()


def test_a_challenge_is_single_use_even_after_a_wrong_answer(client):
    form = report_form(client, kind="other", description=DESCRIPTION, subject_name="某公司", region_code="220102")
    assert client.post("/oversight/report/", {**form, "challenge_answer": "-1"}).status_code == 422
    # Guessing again with the same question is not possible: the token was burnt by the first attempt.
    assert client.post("/oversight/report/", form).status_code == 422
    fields = {k: form[k] for k in ("kind", "description", "subject_name", "region_code")}
    assert client.post("/oversight/report/", report_form(client, **fields)).status_code == 302
    assert Complaint.objects.count() == 1


def test_an_expired_challenge_is_refused(client, monkeypatch):
    form = report_form(client, kind="other", description=DESCRIPTION, subject_name="某公司", region_code="220102")
    monkeypatch.setattr("oversight.challenge.CHALLENGE_MAX_AGE", -1)
    assert client.post("/oversight/report/", form).status_code == 422
    assert not Complaint.objects.exists()


def test_a_forged_challenge_token_is_refused(client):
    form = report_form(client, kind="other", description=DESCRIPTION, subject_name="某公司", region_code="220102")
    data = signing.loads(form["challenge_token"], salt="oversight.challenge")
    forged = signing.dumps({**data, "m": "0" * 64}, salt="another.salt")
    assert client.post("/oversight/report/", {**form, "challenge_token": forged}).status_code == 422


def test_the_challenge_reads_as_chinese_arithmetic():
    for _ in range(30):
        c = challenge_new()
        assert re.fullmatch(r"[零一二三四五六七八九十]+[加减][零一二三四五六七八九十]+等于多少？", c.question)
        assert 0 <= int(answer(c.question)) <= 40


def test_the_honeypot_rejects_bots_quietly(client):
    form = report_form(client, kind="other", description=DESCRIPTION, subject_name="某公司", region_code="220102")
    r = client.post("/oversight/report/", {**form, "website": "http://spam.example"})
    assert r.status_code == 422 and "提交未通过校验" in r.content.decode()
    assert not Complaint.objects.exists()


def test_reports_are_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report": (2, 3600)}
    fields = {"kind": "other", "description": DESCRIPTION, "subject_name": "某公司", "region_code": "220102"}
    for _ in range(2):
        assert client.post("/oversight/report/", report_form(client, **fields)).status_code == 302
    r = client.post("/oversight/report/", report_form(client, **fields))
    assert r.status_code == 429 and Complaint.objects.count() == 2
    # Another address is not affected.
    other = client.post("/oversight/report/", report_form(client, **fields), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_attachments_are_checked_by_content_size_and_number():
    exe = SimpleUploadedFile("证据.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationFailed, match="只接受PDF"):
        _submit(attachments=[exe])
    with pytest.raises(ValidationFailed, match="最多上传3个"):
        _submit(attachments=[pdf(), pdf(), pdf(), pdf()])
    with pytest.raises(ValidationFailed, match="10MB"):
        _submit(attachments=[pdf(size=10 * 1024 * 1024 + 1)])
    png = SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50, content_type="image/png")
    complaint, _code = _submit(attachments=[png, pdf()])
    assert sorted(a.content_type for a in complaint.attachments.all()) == ["application/pdf", "image/png"]
    assert Complaint.objects.count() == 1


def test_a_report_needs_a_subject_a_place_and_a_description():
    with pytest.raises(ValidationFailed, match="具体描述"):
        _submit(description="太短")
    with pytest.raises(ValidationFailed, match="被举报"):
        _submit(subject_name="")
    with pytest.raises(ValidationFailed, match="发生地"):
        _submit(region_code="")
    with pytest.raises(ValidationFailed, match="联系方式"):
        _submit(reporter_contact="12345")


def test_reporting_from_the_verification_page_links_the_certificate(client, issued):
    page = client.get(f"/oversight/report/?certificate={issued.number}").content.decode()
    assert f'value="{issued.number}"' in page
    form = report_form(client, kind="fake_certificate", description=DESCRIPTION, certificate_number=issued.number)
    assert client.post("/oversight/report/", form).status_code == 302
    complaint = Complaint.objects.get()
    # The case goes to the bureau where the certificate was issued, without the reporter choosing.
    assert complaint.certificate == issued and complaint.region.code == issued.region_code


def test_a_report_about_a_number_the_platform_does_not_know_is_kept_as_typed():
    complaint, _code = _submit(kind="fake_certificate", certificate_number=" s000022000102263999999 ", subject_name="")
    assert complaint.certificate is None and complaint.certificate_number == "S000022000102263999999"


def test_the_cancelled_qualification_kind_explains_and_links_the_catalogue(client):
    html = client.get("/oversight/report/").content.decode()
    assert 'value="cancelled_qualification"' in html and 'href="/reference/catalogue/"' in html
    assert "不得将其作为" in html
    cancelled = Qualification.objects.filter(status="cancelled").first()
    assert cancelled.name in html
    complaint, _code = _submit(kind="cancelled_qualification", qualification_id=cancelled.id)
    assert complaint.qualification == cancelled
    listed = Qualification.objects.filter(status="listed").first()
    with pytest.raises(ValidationFailed, match="已取消"):
        _submit(kind="cancelled_qualification", qualification_id=listed.id)


def test_the_api_takes_reports_and_tracking_codes(client):
    challenge = client.get("/api/v1/oversight/public/challenge").json()
    data = {
        "kind": "trained_examiner",
        "description": DESCRIPTION,
        "subject_name": "某评价机构",
        "region_code": "220102",
        "challenge_token": challenge["token"],
        "challenge_answer": answer(challenge["question"]),
    }
    r = client.post("/api/v1/oversight/public/complaints", {**data, "attachments": [pdf(), pdf()]})
    assert r.status_code == 201, r.content
    receipt = r.json()
    assert Complaint.objects.get(number=receipt["number"]).attachments.count() == 2
    assert receipt["number"].startswith("JB") and len(receipt["tracking_code"]) == 14
    track = client.post(
        "/api/v1/oversight/public/track", {"code": receipt["tracking_code"]}, content_type="application/json"
    )
    assert track.status_code == 200 and track.json()["status"] == "received"
    again = client.post("/api/v1/oversight/public/complaints", data)
    assert again.status_code == 422 and again.json()["details"]["field"] == "challenge"
    unknown = client.post("/api/v1/oversight/public/track", {"code": "ZZZZ"}, content_type="application/json")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


# --- Deadlines ----------------------------------------------------------------------------------------------------


def test_the_answer_deadline_is_counted_in_working_days_from_regional_policy(monkeypatch):
    monkeypatch.setattr("oversight.reports.timezone.localdate", lambda *a: datetime.date(2025, 9, 26))
    complaint, _code = _submit()
    # 15 working days from Friday 26 September 2025, over the National Day holiday (1–8 October) and counting
    # the 调休 working weekend days 28 September and 11 October; a plain weekday count would give 17 October.
    assert complaint.due_on == datetime.date(2025, 10, 23) and not complaint.due_provisional
    ComplaintPolicy.objects.create(
        region_prefix="2202", response_working_days=5, effective_from=datetime.date(2025, 1, 1)
    )
    ComplaintPolicy.objects.create(
        region_prefix="22", response_working_days=30, effective_from=datetime.date(2025, 1, 1)
    )
    complaint, _code = _submit()
    assert complaint.due_on == datetime.date(2025, 10, 10)
    # 吉林市 has its own row; 长春 falls back to the province's.
    complaint, _code = _submit(region_code="220102")
    assert complaint.due_on == datetime.date(2025, 11, 13)


def test_a_deadline_into_an_unpublished_year_is_provisional(monkeypatch):
    monkeypatch.setattr("oversight.reports.timezone.localdate", lambda *a: datetime.date(2026, 12, 24))
    complaint, _code = _submit()
    assert complaint.due_provisional and "2027" in complaint.due_note


# --- Handling, scoped to the region ----------------------------------------------------------------------------------


def test_a_changchun_officer_cannot_see_a_jilin_city_case(client, cc_officer, jlc_officer, province_officer):
    complaint, _code = _submit(region_code="220202")
    assert client_for(cc_officer).get(f"/oversight/complaints/{complaint.id}/").status_code == 404
    assert client_for(cc_officer).get(f"/api/v1/oversight/complaints/{complaint.id}").status_code == 404
    assert complaint.number not in client_for(cc_officer).get("/oversight/complaints/").content.decode()
    assert client_for(cc_officer).get("/api/v1/oversight/complaints").json()["count"] == 0
    with pytest.raises(NotFound):
        reports.complaint_accept(actor=Actor.for_user(cc_officer), complaint_id=complaint.id)
    assert client_for(jlc_officer).get(f"/oversight/complaints/{complaint.id}/").status_code == 200
    assert client_for(province_officer).get(f"/api/v1/oversight/complaints/{complaint.id}").status_code == 200


def test_organisation_staff_and_visitors_cannot_list_cases(client, org_admin):
    _submit(region_code="220102")
    assert client_for(org_admin).get("/oversight/complaints/").status_code == 403
    assert client_for(org_admin).get("/api/v1/oversight/complaints").status_code == 403
    assert client.get("/oversight/complaints/").status_code == 302
    assert client.get("/api/v1/oversight/complaints").status_code == 401


def test_a_case_is_assigned_only_to_an_officer_of_its_region(cc_officer, jlc_officer):
    complaint, _code = _submit(region_code="220202")
    with pytest.raises(ValidationFailed, match="承办人"):
        reports.complaint_accept(
            actor=Actor.for_user(jlc_officer), complaint_id=complaint.id, assignee_id=cc_officer.id
        )
    reports.complaint_accept(actor=Actor.for_user(jlc_officer), complaint_id=complaint.id, assignee_id=jlc_officer.id)
    complaint.refresh_from_db()
    assert complaint.status == "investigating" and complaint.assigned_to == jlc_officer


def test_triage_investigation_and_closing_publish_only_what_was_found(client, cc_officer, filed_org):
    complaint, code = _submit(
        kind="trained_examiner",
        organisation_id=filed_org.id,
        region_code="",
        subject_name="",
        reporter_name="王五",
        reporter_contact="wang@example.com",
    )
    assert complaint.region == filed_org.region
    officer = client_for(cc_officer)
    base = f"/oversight/complaints/{complaint.id}"
    assert "王五" in officer.get(f"{base}/").content.decode()  # the handling bureau may contact the reporter
    officer.post(f"{base}/accept/", {"assignee_id": cc_officer.id})
    officer.post(f"{base}/note/", {"text": "调取考评员名册与培训记录,核实属实。"})
    r = officer.post(f"{base}/sanction/", {"kind": "warning", "reason": "考培不分离", "organisation_id": filed_org.id})
    assert r.status_code == 302
    officer.post(
        f"{base}/close/",
        {
            "outcome": "substantiated",
            "finding": "该机构考评员李某曾为本期考生授课。",
            "measures": "责令整改,给予警告,相关成绩重新评定。",
            "reply": "经查属实,已依规处理。",
            "publish": "1",
        },
    )
    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.outcome == "substantiated"
    exposure = Exposure.objects.get(complaint=complaint)
    assert exposure.subject == filed_org.name
    listing = client.get("/oversight/exposures/").content.decode()
    detail = client.get(f"/oversight/exposures/{exposure.id}/").content.decode()
    api = client.get(f"/api/v1/oversight/public/exposures/{exposure.id}").json()
    for public in (listing, detail, str(api)):
        assert "王五" not in public and "wang@example.com" not in public and DESCRIPTION not in public
    assert "给予警告" in detail and api["sanctions"][0]["kind"] == "warning"
    assert client.get("/api/v1/oversight/public/exposures").json()["count"] == 1
    html = client.post("/oversight/track/", {"code": code}).content.decode()
    assert "经查属实" in html and f"/oversight/exposures/{exposure.id}/" in html


def test_only_substantiated_findings_are_published(cc_officer):
    complaint, _code = _submit(region_code="220102")
    officer = Actor.for_user(cc_officer)
    reports.complaint_accept(actor=officer, complaint_id=complaint.id, assignee_id=cc_officer.id)
    with pytest.raises(ValidationFailed, match="查无实据"):
        reports.complaint_close(
            actor=officer,
            complaint_id=complaint.id,
            outcome="unsubstantiated",
            finding="无",
            measures="无",
            reply="未查实",
            publish=True,
        )
    assert not Exposure.objects.exists()


def test_a_person_named_in_a_report_is_masked_on_the_exposure_list(client, cc_officer):
    complaint, _code = _submit(region_code="220102", subject_name="张三丰")
    officer = Actor.for_user(cc_officer)
    reports.complaint_accept(actor=officer, complaint_id=complaint.id, assignee_id=cc_officer.id)
    reports.complaint_close(
        actor=officer,
        complaint_id=complaint.id,
        outcome="partly",
        finding="冒用他人证书上岗",
        measures="移交有关部门",
        reply="部分属实",
        publish=True,
    )
    html = client.get("/oversight/exposures/").content.decode()
    assert "张**" in html and "张三丰" not in html


def test_a_rejected_report_answers_the_reporter(client, cc_officer):
    complaint, code = _submit(region_code="220102")
    reports.complaint_reject(actor=Actor.for_user(cc_officer), complaint_id=complaint.id, reason="不属于人社部门职责")
    html = client.post("/oversight/track/", {"code": code}).content.decode()
    assert 'data-status="rejected"' in html and "不属于人社部门职责" in html


def test_a_withdrawn_exposure_leaves_the_public_list(client, cc_officer):
    complaint, _code = _submit(region_code="220102", subject_name="某公司")
    officer = Actor.for_user(cc_officer)
    reports.complaint_accept(actor=officer, complaint_id=complaint.id, assignee_id=cc_officer.id)
    reports.complaint_close(
        actor=officer,
        complaint_id=complaint.id,
        outcome="substantiated",
        finding="事实",
        measures="处理",
        reply="答复",
        publish=True,
    )
    exposure = Exposure.objects.get()
    exposures.exposure_withdraw(actor=officer, exposure_id=exposure.id, reason="当事人复议撤销原决定")
    assert client.get(f"/oversight/exposures/{exposure.id}/").status_code == 404
    assert client.get("/api/v1/oversight/public/exposures").json()["count"] == 0


@pytest.fixture
def filed_org(org, org_admin, cc_officer):
    return file_organisation(org, org_admin, cc_officer)
