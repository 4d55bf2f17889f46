"""The panel pages: the organisation forms its panels, the bureau assigns a supervisor, the supervisor reports."""

import pytest
from django.urls import reverse

from accounts.models import Role
from assessments.models import PanelMember, Plan, RelationshipDeclaration, SupervisionReport
from tests.conftest import client_for
from tests.factories import member

from . import test_panels as shared

# Fixtures shared with test_panels.py, registered here by name.
api_base = shared.api_base
candidates = shared.candidates
pool = shared.pool
provider = shared.provider
supervised = shared.supervised

pytestmark = pytest.mark.django_db


@pytest.fixture
def staffed(api_base, plan, org_admin, candidates, provider):
    """One assessor on the skills panel, one free, and one who trained a candidate."""
    on_panel, free, teacher = (shared.assessor(plan.organisation, org_admin) for _ in range(3))
    PanelMember.objects.create(plan=plan, kind="skills", appointment=on_panel)
    record = shared.trained(provider, teacher.person, candidates[0].person)
    return {"on_panel": on_panel, "free": free, "teacher": teacher, "record": record}


def test_the_panel_page_shows_requirements_members_and_reasons(plan, org_admin, staffed):
    html = client_for(org_admin).get(reverse("assessments:panel_page", args=[plan.id])).content.decode()
    assert "操作技能考核" in html and "需 3 名" in html and "未配齐" in html
    assert staffed["on_panel"].person.name in html and "已在考评组" in html
    assert 'class="disabled"' in html and f"培训记录{staffed['record'].id}" in html
    assert reverse("assessments:panel_assign", args=[plan.id, "skills"]) in html
    assert f'value="{staffed["free"].id}"' in html and f'value="{staffed["teacher"].id}"' not in html


def test_the_panel_page_is_the_organisations_and_its_bureaus(
    client, plan, staffed, other_org_admin, jlc_officer, cc_officer
):
    url = reverse("assessments:panel_page", args=[plan.id])
    assert client_for(other_org_admin).get(url).status_code == 404
    assert client_for(jlc_officer).get(url).status_code == 404
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]
    html = client_for(cc_officer).get(url).content.decode()
    assert "不可安排" in html and reverse("assessments:panel_assign", args=[plan.id, "skills"]) not in html


def test_assigning_and_removing_from_the_page(plan, org_admin, other_org_admin, staffed):
    owner = client_for(org_admin)
    assign = reverse("assessments:panel_assign", args=[plan.id, "skills"])
    r = owner.post(assign, {"appointment_id": staffed["teacher"].id}, follow=True)
    assert "考培分离" in r.content.decode()
    assert not PanelMember.objects.filter(appointment=staffed["teacher"]).exists()
    assert client_for(other_org_admin).post(assign, {"appointment_id": staffed["free"].id}).status_code == 404
    r = owner.post(assign, {"appointment_id": staffed["free"].id})
    assert r.status_code == 302 and PanelMember.objects.filter(appointment=staffed["free"]).exists()
    remove = reverse("assessments:panel_remove", args=[plan.id, "skills", staffed["free"].id])
    owner.post(remove, {"reason": ""})
    assert PanelMember.objects.filter(appointment=staffed["free"]).exists()
    owner.post(remove, {"reason": "身体不适"})
    assert not PanelMember.objects.filter(appointment=staffed["free"]).exists()


def test_the_bureau_assigns_a_supervisor_by_hand_or_at_random(api_base, plan, pool, cc_officer, org_admin, jlc_officer):
    url = reverse("assessments:supervision_assign", args=[plan.id])
    assert client_for(org_admin).get(url).status_code == 403
    assert client_for(jlc_officer).get(url).status_code == 404
    officer = client_for(cc_officer)
    html = officer.get(url).content.decode()
    assert "随机抽取" in html and 'class="disabled"' in html and "考培分离" in html
    assert f'value="{pool["good"][0].id}"' in html and f'value="{pool["teacher"].id}"' not in html
    officer.post(url, {"action": "manual", "appointment_id": pool["teacher"].id})
    assert Plan.objects.get(pk=plan.id).supervisor is None
    officer.post(url, {"action": "manual", "appointment_id": pool["good"][1].id})
    assert Plan.objects.get(pk=plan.id).supervisor == pool["good"][1]
    r = officer.post(url, {"action": "random"})
    assert r.status_code == 302 and Plan.objects.get(pk=plan.id).supervisor in pool["good"]


def test_the_supervisor_sees_the_session_and_reports(api_base, plan, supervised, pool, changchun_bureau):
    sup = client_for(supervised)
    html = sup.get(reverse("assessments:supervision_mine")).content.decode()
    assert plan.title in html and "未提交" in html
    url = reverse("assessments:supervision_report", args=[plan.id])
    assert "考培分离" in sup.get(url).content.decode()
    r = sup.post(url, {**shared.ALL_OK, "venue": "issue", "findings": ""})
    assert r.status_code == 422 and "须填写发现的问题" in r.content.decode()
    assert not SupervisionReport.objects.exists()
    r = sup.post(url, {**shared.ALL_OK, "venue": "issue", "findings": "考场未张贴考生须知"})
    assert r.status_code == 302 and SupervisionReport.objects.get().checklist["venue"] == "issue"
    assert "已提交 1 份" in sup.get(reverse("assessments:supervision_mine")).content.decode()
    other = member(Role.SUPERVISOR, bureau=changchun_bureau, person=pool["good"][1].person)
    assert client_for(other).get(url).status_code == 404
    assert plan.title not in client_for(other).get(reverse("assessments:supervision_mine")).content.decode()


def test_an_assessor_declares_a_relationship_on_the_page(api_base, plan, org_admin, candidates):
    a = shared.assessor(plan.organisation, org_admin)
    user = member(Role.ASSESSOR, organisation=plan.organisation, person=a.person)
    page = client_for(user)
    url = reverse("assessments:supervision_relationships")
    cand = candidates[0].person
    r = page.post(url, {"name": cand.name, "id_type": "ric", "id_number": cand.id_number, "kind": "master"})
    assert r.status_code == 302
    d = RelationshipDeclaration.objects.get()
    assert (d.declarant, d.other, d.kind) == (a.person, cand, "master")
    html = page.get(url).content.decode()
    assert cand.name in html and cand.id_number not in html and "师徒" in html
    assert "无法申报" in client_for(org_admin).get(url).content.decode()


def test_several_assessors_are_assigned_at_once_and_the_page_returns_to_the_component(plan, org_admin, staffed):
    """One form of checkboxes: the free assessor is assigned, the teacher refused with the rule, the others kept."""
    more = shared.assessor(plan.organisation, org_admin)
    assign = reverse("assessments:panel_assign", args=[plan.id, "skills"])
    owner = client_for(org_admin)
    r = owner.post(assign, {"appointment_id": [staffed["free"].id, staffed["teacher"].id, more.id, "x"]})
    assert r.status_code == 302 and r["Location"].endswith(
        f"{reverse('assessments:panel_page', args=[plan.id])}#panel-skills"
    )
    on_panel = set(PanelMember.objects.filter(plan=plan, kind="skills").values_list("appointment_id", flat=True))
    assert {staffed["free"].id, more.id} <= on_panel and staffed["teacher"].id not in on_panel
    html = owner.get(r["Location"]).content.decode()
    messages = html[html.index('class="messages"') : html.index("</ul>", html.index('class="messages"'))]
    assert "考培分离" in messages, messages
    assert f"已安排到考评组:{staffed['free'].person.name}、{more.person.name}" in messages, messages


def test_nothing_ticked_says_so(plan, org_admin, staffed):
    assign = reverse("assessments:panel_assign", args=[plan.id, "skills"])
    r = client_for(org_admin).post(assign, {}, follow=True)
    assert "请勾选要安排的考评员" in r.content.decode()


def test_no_staffing_warning_before_any_candidate_is_approved(plan, org_admin):
    """A plan with no approved candidate yet shows what the panel will need, not a red shortfall."""
    html = client_for(org_admin).get(reverse("assessments:panel_page", args=[plan.id])).content.decode()
    assert "未配齐" not in html and 'class="error"' not in html
    assert "待考生确定" in html and "尚无审核通过的考生" in html


def test_the_new_plan_form_offers_each_occupation_only_its_filed_levels_and_the_server_refuses_others(
    filed_org, org_admin
):
    """The filing has 电工 at 五级–三级 and another occupation up to 二级: 二级 is offered only under the latter, and a
    hand-made post of 二级 for 电工 is refused by plan_create with the reason, nothing saved."""
    import datetime

    from django.utils import timezone

    owner = client_for(org_admin)
    url = reverse("assessments:plan_new", args=[filed_org.id])
    html = owner.get(url).content.decode()
    electrician = html[html.index('class="levels-of" data-occupation="6-31-01-03"') :]
    electrician = electrician[: electrician.index("</p>")]
    other = html[html.index('class="levels-of" data-occupation="4-03-02-01"') :]
    other = other[: other.index("</p>")]
    assert 'value="3"' in electrician and 'value="2"' not in electrician
    assert 'value="2"' in other
    closes = timezone.localdate() + datetime.timedelta(days=10)
    day = (closes + datetime.timedelta(days=3)).isoformat()
    r = owner.post(
        url,
        {
            "title": "越范围的计划",
            "occupation_code": "6-31-01-03",
            "levels": ["2"],
            "venue": "长春",
            "capacity": "10",
            "registration_opens": timezone.localdate().isoformat(),
            "registration_closes": closes.isoformat(),
            "theory_date": day,
            "theory_start": "09:00",
            "theory_end": "11:00",
            "theory_room": "1",
            "skills_date": day,
            "skills_start": "13:00",
            "skills_end": "15:00",
            "skills_room": "2",
            "review_date": day,
            "review_start": "16:00",
            "review_end": "17:00",
            "review_room": "3",
        },
    )
    messages = r.content.decode()
    messages = messages[messages.index('class="messages"') :][:400]
    assert r.status_code == 200 and "不含二级" in messages, messages
    assert not Plan.objects.filter(title="越范围的计划").exists()
    # What was ticked stays ticked under its occupation.
    page = r.content.decode()
    assert 'value="2" data-occupation="4-03-02-01">' in page
