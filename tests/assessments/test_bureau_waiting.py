"""Result reviews and employment reviews waiting for a bureau: counted on its home, the overdue ones first, and
one notification a day to its officers (issue 14: the bureau is told when something waits for it)."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import AssessmentPolicy, Registration, ResultReview, ResultReviewPolicy
from assessments.review.waiting import bureau_waiting
from assessments.tasks import bureau_waiting_notify_task
from core.models import Notification
from tests.conftest import client_for

from .test_employment import A, employer, person, plan, register  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(plan, employer):  # noqa: F811
    """Changchun sends outsiders of an employer for review (2 working days); one has waited a month. The plan's
    results went to the bureau last month and their deadline has passed."""
    AssessmentPolicy.objects.create(
        region_prefix="2201",
        effective_from=datetime.date(2020, 1, 1),
        employer_staff_check="review",
        employment_review_working_days=2,
    )
    old, new = register(plan, employer, person(1, "王强")), register(plan, employer, person(2, "李娜"))
    assert old.employment_status == new.employment_status == "review"
    Registration.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))
    policy = ResultReviewPolicy.objects.create(region_prefix="2201", effective_from=datetime.date(2020, 1, 1))
    review = ResultReview.objects.create(
        plan=plan,
        policy=policy,
        digest="0" * 64,
        submitted_at=timezone.now() - datetime.timedelta(days=20),
        due_on=timezone.localdate() - datetime.timedelta(days=10),
    )
    return old, new, review


def test_the_bureau_home_counts_what_waits_overdue_first(waiting, cc_officer, jlc_officer):
    old, new, review = waiting
    items = bureau_waiting(A(cc_officer))
    # Overdue first, the longest overdue at the top (the employment review was due about four weeks ago).
    assert [(w.kind, w.overdue) for w in items] == [("employment", True), ("results", True), ("employment", False)]
    assert items[0].link == f"/assessments/registrations/{old.id}/" and items[2].link.endswith(f"/{new.id}/")
    page = client_for(cc_officer).get("/").content.decode()
    block = page[page.index('id="bureau-waiting"') :]
    assert "成绩审核 1 项(逾期 1)" in block and "本单位职工核验 2 项(逾期 1)" in block
    assert block.index("王强") < block.index("李娜")  # the overdue one first
    other = client_for(jlc_officer).get("/").content.decode()  # another city's bureau: nothing of Changchun's
    assert "成绩审核 0 项(逾期 0)" in other and "王强" not in other
    Registration.objects.filter(pk=old.pk).update(employment_status="proof")  # decided: off the list
    review.status = "approved"
    review.save(update_fields=["status"])
    assert [w.link for w in bureau_waiting(A(cc_officer))] == [f"/assessments/registrations/{new.id}/"]


def test_the_daily_task_tells_the_officers_of_the_region(waiting, cc_officer, jlc_officer):
    bureau_waiting_notify_task.delay().get()
    (note,) = Notification.objects.filter(user=cc_officer)
    assert "成绩1项(逾期1)" in note.title and "本单位职工核验2项(逾期1)" in note.title
    lines = note.body.splitlines()
    assert lines[0].startswith("【逾期】本单位职工核验") and "王强" in lines[0]
    assert lines[1].startswith("【逾期】成绩审核") and not lines[2].startswith("【逾期】")
    assert not Notification.objects.filter(user=jlc_officer).exists()


def test_nothing_waiting_sends_nothing(cc_officer):
    bureau_waiting_notify_task.delay().get()
    assert not Notification.objects.filter(user=cc_officer).exists()
