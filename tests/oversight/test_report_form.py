"""The 举报 form respects the person filling it in: every field's error at once, a limit that counts wrong
answers (not a form sent back for a missing field), and a refusal that says how long to wait — in the page in
minutes, in the API in a Retry-After header."""

import re

import pytest

from oversight.models import Complaint

from .conftest import report_form

pytestmark = pytest.mark.django_db

DESCRIPTION = "该机构在考前培训时透露考题,培训老师又担任了考评员。"
FIELDS = {"kind": "other", "description": DESCRIPTION, "subject_name": "某培训学校", "region_code": "220202"}


def test_every_field_error_is_reported_at_once(client):
    form = report_form(client, description="", subject_name="某公司", region_code="220102")
    r = client.post("/oversight/report/", {**form, "challenge_answer": "-1"})
    html = r.content.decode()
    assert r.status_code == 422
    box = re.search(r'<div class="error" id="form-error" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "请修改以下3处" in box
    assert re.findall(r'data-field="(\w+)"', box) == ["kind", "description", "challenge"]
    assert 'id="kind-error">请选择举报类型' in html
    assert 'id="description-error">请具体描述问题' in html
    assert 'id="challenge-error">验证题答案不正确' in html
    assert html.count('aria-invalid="true"') == 2  # the textarea and the answer (the kind is a radio group)
    assert 'value="某公司"' in html and not Complaint.objects.exists()  # nothing typed is lost


def test_a_right_answer_with_a_missing_field_asks_a_new_question_and_says_so(client):
    form = report_form(client, kind="other", description="", subject_name="某公司", region_code="220102")
    html = client.post("/oversight/report/", form).content.decode()
    assert "请修改以下1处" in html and 'id="challenge-renewed"' in html and 'id="challenge-error"' not in html


def test_the_api_reports_every_field_error_at_once(client):
    form = report_form(client, description="短", subject_name="", region_code="")
    r = client.post("/api/v1/oversight/public/complaints", {**form, "kind": "nonsense", "challenge_answer": "-1"})
    body = r.json()
    assert r.status_code == 422 and body["details"]["field"] == "kind"
    fields = [e["field"] for e in body["details"]["errors"]]
    assert fields == ["kind", "subject_name", "region_code", "description", "challenge"]


def test_forms_sent_back_for_a_missing_field_do_not_use_up_the_allowance(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report": (2, 3600), "public_report_failures": (2, 3600)}
    for _ in range(4):
        r = client.post("/oversight/report/", report_form(client, **{**FIELDS, "description": ""}))
        assert r.status_code == 422
    for _ in range(2):
        assert client.post("/oversight/report/", report_form(client, **FIELDS)).status_code == 302
    # Accepted reports are what the address's allowance counts.
    r = client.post("/oversight/report/", report_form(client, **FIELDS))
    assert r.status_code == 429 and Complaint.objects.count() == 2
    assert re.search(r"请 \d+ 分钟后再试", r.content.decode())


def test_wrong_answers_are_failures_and_the_refusal_says_how_long_to_wait(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report_failures": (2, 3600)}
    assert (
        client.post("/oversight/report/", {**report_form(client, **FIELDS), "challenge_answer": "-1"}).status_code
        == 422
    )
    r = client.post("/oversight/report/", {**report_form(client, **FIELDS), "challenge_answer": "-1"})
    assert r.status_code == 429 and re.search(r"验证题答错次数过多,请 \d+ 分钟后再试", r.content.decode())
    # Blocked now even with the right answer; another address is not.
    assert client.post("/oversight/report/", report_form(client, **FIELDS)).status_code == 429
    assert client.post("/oversight/report/", report_form(client, **FIELDS), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_the_api_says_when_to_try_again_in_retry_after(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_report_failures": (1, 3600)}
    form = report_form(client, **FIELDS)
    r = client.post("/api/v1/oversight/public/complaints", {**form, "challenge_answer": "-1"})
    assert r.status_code == 429
    wait = int(r["Retry-After"])
    assert 0 < wait <= 3600 and r.json()["details"]["retry_after_seconds"] == wait
    assert "分钟" in r.json()["message"]
