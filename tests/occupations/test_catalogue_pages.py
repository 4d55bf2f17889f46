"""The pages of a cancellation: the operator's preview and confirmation, the candidate's choice, the
organisation's refunds, the bureau's comeback check."""

import datetime

import pytest
from django.utils import timezone

from assessments.models import CancellationChoice, Registration
from occupations.models import CatalogueChange
from oversight.models import ComebackFinding
from tests.conftest import client_for
from tests.factories import Role, member

from .test_catalogue_changes import cancel, caught, cook_qual  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_operator_records_previews_and_confirms_on_the_pages(caught, operator, cook_qual):  # noqa: F811
    plan, regs = caught
    c = client_for(operator)
    assert "目录清单变更" in c.get("/reference/changes/").content.decode()
    bad = c.post(
        "/reference/changes/", {"qualification_id": cook_qual.id, "kind": "cancel", "effective_on": "", "basis": "x"}
    )
    assert bad.status_code == 200 and "请填写生效日期" in bad.content.decode()
    r = c.post(
        "/reference/changes/",
        {
            "qualification_id": cook_qual.id,
            "kind": "cancel",
            "effective_on": str(timezone.localdate() + datetime.timedelta(days=5)),
            "basis": "人社部发〔2026〕99号",
        },
    )
    change = CatalogueChange.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/reference/changes/{change.id}/"
    page = c.get(r["Location"]).content.decode()
    assert "确认前请核对影响范围" in page and plan.title in page and regs[0].person.name in page
    assert regs[0].person.id_number not in page
    c.post(r["Location"], {"action": "confirm"})
    change.refresh_from_db()
    assert change.status == "confirmed" and CancellationChoice.objects.count() == 3
    assert client_for(member(Role.WORKER)).get(f"/reference/changes/{change.id}/").status_code == 404


def test_candidate_chooses_refund_and_the_organisation_records_it_on_the_pages(
    caught,  # noqa: F811
    operator,
    org_admin,
    other_org_admin,
):
    plan, regs = caught
    change = cancel(operator, plan.occupation.qualification)
    choice = CancellationChoice.objects.get(change=change, registration=regs[0])
    candidate = member(Role.WORKER, person=regs[0].person)
    page = client_for(candidate).get("/assessments/my/").content.decode()
    assert f'id="refund-{choice.id}"' in page and "中式烹调师(测试)" in page
    client_for(candidate).post(f"/assessments/my/choices/{choice.id}/", {"choice": "refund"})
    regs[0].refresh_from_db()
    assert regs[0].status == Registration.Status.WITHDRAWN

    assert 'id="cancellation-link"' in client_for(org_admin).get(f"/assessments/manage/{plan.id}/").content.decode()
    url = f"/assessments/manage/{plan.id}/cancellation/"
    assert client_for(other_org_admin).get(url).status_code == 404
    page = client_for(org_admin).get(url).content.decode()
    assert "待退费" in page and "登记退费" in page
    admin = client_for(org_admin)
    r = admin.post(
        url,
        {"choice_id": choice.id, "amount": "abc", "refunded_on": str(timezone.localdate()), "reference": "R1"},
        follow=True,
    )
    assert "退费金额格式不正确" in r.content.decode()
    choice.refresh_from_db()
    assert not choice.refunded
    # An altered form is answered like an unknown choice, not with a server error.
    r = admin.post(url, {"choice_id": "x", "amount": "150", "refunded_on": str(timezone.localdate()), "reference": "R"})
    assert r.status_code == 302
    client_for(org_admin).post(
        url, {"choice_id": choice.id, "amount": "150", "refunded_on": str(timezone.localdate()), "reference": "R1"}
    )
    choice.refresh_from_db()
    assert choice.refunded and str(choice.refund_amount) == "150.00"
    assert "已退费" in client_for(candidate).get("/assessments/my/").content.decode()


def test_bureau_runs_the_comeback_check_on_its_page(org, cc_officer):
    org.name = "长春物流师职业资格培训中心"
    org.save()
    c = client_for(cc_officer)
    c.post("/oversight/comebacks/scan/")
    finding = ComebackFinding.objects.get()
    page = c.get("/oversight/comebacks/").content.decode()
    assert f'id="finding-{finding.id}"' in page and "物流师" in page
    r = c.post(f"/oversight/comebacks/{finding.id}/", {"action": "investigate"})
    finding.refresh_from_db()
    assert finding.status == "investigating" and r["Location"] == f"/oversight/complaints/{finding.complaint_id}/"
