"""The bureau reviews results before certificates are issued where the region's policy (data with effective dates)
says so: submit, approve or return within working days, and no certificate before approval; elsewhere nothing
changes."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import ComponentResult, ResultReview, ResultReviewPolicy
from assessments.review import selectors, services
from certificates.issuance import issue_batch_start
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.models import AuditEntry
from occupations.workdays import add_working_days
from tests.conftest import client_for

from .test_scoring import A, build_scene, finalised_scene

pytestmark = pytest.mark.django_db


def test_the_most_specific_policy_in_force_applies():
    # Seeded: 广东 (44) and 深圳 (4403).
    day = datetime.date(2026, 6, 1)
    assert selectors.policy_for("440304", day).region_prefix == "4403"
    assert selectors.policy_for("440106", day).region_prefix == "44"
    assert selectors.policy_for("220102", day) is None
    ResultReviewPolicy.objects.create(
        region_prefix="22", effective_from=datetime.date(2026, 1, 1), effective_until=datetime.date(2026, 3, 31)
    )
    assert selectors.policy_for("220102", datetime.date(2026, 3, 31)).region_prefix == "22"
    assert selectors.policy_for("220102", day) is None  # lapsed
    ResultReviewPolicy.objects.create(region_prefix="4403", effective_from=datetime.date(2026, 5, 1), required=False)
    assert selectors.policy_for("440304", day).required is False  # Shenzhen stopped reviewing from May
    assert selectors.policy_for("440304", datetime.date(2026, 4, 30)).required is True


@pytest.fixture
def finalised(plan, filed_org, org_admin):
    return finalised_scene(build_scene(plan, filed_org, org_admin))


@pytest.fixture
def reviewed_region():
    """Changchun's bureau adopts a review before issuance (the scene's organisation is in 长春市南关区)."""
    return ResultReviewPolicy.objects.create(
        region_prefix="2201", effective_from=datetime.date(2020, 1, 1), working_days=5, basis="测试"
    )


def _refused_issuance(actor, plan) -> str:
    try:
        issue_batch_start(actor=actor, plan_id=plan.id)
    except Conflict as exc:
        return exc.code
    return ""


def test_without_a_policy_nothing_changes(finalised):
    assert selectors.issuance_blocker(finalised.plan) == ""
    assert _refused_issuance(A(finalised.admin), finalised.plan) != "result_review"
    with pytest.raises(Conflict, match="无需报送"):
        services.review_submit(actor=A(finalised.admin), plan_id=finalised.plan.id)


def test_results_go_to_the_bureau_and_no_certificate_before_approval(
    finalised, reviewed_region, cc_officer, jlc_officer
):
    plan, admin = finalised.plan, finalised.admin
    assert _refused_issuance(A(admin), plan) == "result_review"
    review = services.review_submit(actor=A(admin), plan_id=plan.id)
    assert review.status == "pending" and review.summary["candidates"] == 3
    assert review.due_on == add_working_days(timezone.localdate(), 5).date
    assert "审核中" in selectors.issuance_blocker(plan)
    with pytest.raises(Conflict):
        services.review_submit(actor=A(admin), plan_id=plan.id)
    # Only the bureau over the organisation decides.
    with pytest.raises(PermissionDenied):
        services.review_decide(actor=A(admin), review_id=review.id, approve=True)
    with pytest.raises(NotFound):
        services.review_decide(actor=A(jlc_officer), review_id=review.id, approve=True)
    # Returned with the reason; issuance says why; a new submission must answer it.
    with pytest.raises(ValidationFailed):
        services.review_decide(actor=A(cc_officer), review_id=review.id, approve=False)
    services.review_decide(actor=A(cc_officer), review_id=review.id, approve=False, reason="第2名考生理论成绩存疑")
    assert "第2名考生理论成绩存疑" in selectors.issuance_blocker(plan)
    assert _refused_issuance(A(admin), plan) == "result_review"
    with pytest.raises(ValidationFailed, match="说明处理情况"):
        services.review_submit(actor=A(admin), plan_id=plan.id)
    again = services.review_submit(actor=A(admin), plan_id=plan.id, note="已复核答卷,成绩无误")
    services.review_decide(actor=A(cc_officer), review_id=again.id, approve=True)
    assert selectors.issuance_blocker(plan) == ""
    assert _refused_issuance(A(admin), plan) != "result_review"
    actions = list(AuditEntry.objects.filter(action__startswith="result_review.").values_list("action", flat=True))
    assert actions == [
        "result_review.submit",
        "result_review.return",
        "result_review.submit",
        "result_review.approve",
    ]


def test_results_changed_after_approval_need_a_new_review(finalised, reviewed_region, cc_officer):
    plan, admin = finalised.plan, finalised.admin
    review = services.review_submit(actor=A(admin), plan_id=plan.id)
    services.review_decide(actor=A(cc_officer), review_id=review.id, approve=True)
    ComponentResult.objects.filter(registration=finalised.regs[1], kind="skills").update(score=61, passed=True)
    assert "有变化" in selectors.issuance_blocker(plan)
    assert _refused_issuance(A(admin), plan) == "result_review"


def test_the_pages_and_the_api(finalised, reviewed_region, cc_officer, other_org_admin):
    plan, admin = finalised.plan, finalised.admin
    org = client_for(admin)
    page = org.get(f"/assessments/plans/{plan.id}/result-review/").content.decode()
    assert 'id="submit-review"' in page and "报送当天不计入" in page
    org.post(f"/assessments/plans/{plan.id}/result-review/", {"note": ""})
    review = ResultReview.objects.get()
    bureau = client_for(cc_officer)
    queue = bureau.get("/assessments/result-reviews/").content.decode()
    assert plan.title in queue and str(review.due_on) in queue
    assert client_for(admin).get("/assessments/result-reviews/").status_code == 403
    r = bureau.post(
        f"/api/v1/assessments/result-reviews/{review.id}/decide", {"approve": True}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    state = org.get(f"/api/v1/assessments/plans/{plan.id}/result-review").json()
    assert (
        state["required"] is True and state["issuance_blocked_by"] == "" and state["reviews"][0]["status"] == "approved"
    )
    assert client_for(other_org_admin).get(f"/api/v1/assessments/plans/{plan.id}/result-review").status_code == 404
