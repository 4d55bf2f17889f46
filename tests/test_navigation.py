"""Every user finds their way (issue 17): role menus, public entries, to-do home pages, titles, favicon, footer."""

import datetime
import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from oversight.models import Complaint
from tests.conftest import client_for
from tests.factories import member, region

pytestmark = pytest.mark.django_db

PUBLIC_ENTRIES = ["/verify/", "/assessments/plans/", "/oversight/report/"]


def header(html: str) -> str:
    return html[html.index("<header") : html.index("</header>")]


def role_menu(html: str) -> str:
    top = header(html)
    return top[top.index('id="role-nav"') :] if 'id="role-nav"' in top else ""


def test_a_visitor_reaches_the_public_entries_from_every_page_and_has_no_role_menu():
    for path in ["/", "/verify/", "/directory/", "/assessments/plans/"]:
        top = header(Client().get(path).content.decode())
        for entry in PUBLIC_ENTRIES:
            assert f'href="{entry}"' in top, (path, entry)
        assert "role-nav" not in top and "nav-toggle" not in top


def test_a_bureau_officer_gets_the_bureau_menu_and_not_the_organisations(cc_officer):
    html = client_for(cc_officer).get("/oversight/complaints/").content.decode()
    menu = role_menu(html)
    assert 'href="/accreditation/review/"' in menu and 'href="/subsidies/queue/"' in menu
    assert 'href="/oversight/audit/"' in menu
    assert 'href="/assessments/manage/"' not in menu and 'href="/accounts/tokens/"' not in menu
    assert re.search(r'href="/oversight/complaints/"\s+aria-current="page"', menu)
    for entry in PUBLIC_ENTRIES:
        assert f'href="{entry}"' in header(html)


def test_the_subsidy_menus_reach_declarations_and_budgets(cc_officer):
    from tests.factories import PersonFactory

    officer_menu = role_menu(client_for(cc_officer).get("/").content.decode())
    assert 'href="/subsidies/declared/review/"' in officer_menu and 'href="/subsidies/budgets/"' in officer_menu
    assert 'href="/subsidies/declared/"' not in officer_menu  # no person bound: nothing to declare
    worker_menu = role_menu(client_for(member(Role.WORKER, person=PersonFactory())).get("/").content.decode())
    assert 'href="/subsidies/declared/"' in worker_menu and 'href="/subsidies/budgets/"' not in worker_menu


def test_an_organisation_admin_gets_the_organisation_menu(org_admin):
    menu = role_menu(client_for(org_admin).get("/").content.decode())
    assert 'href="/assessments/manage/"' in menu and 'href="/accreditation/mine/"' in menu
    assert 'href="/subsidies/queue/"' not in menu and 'href="/oversight/audit/"' not in menu


def test_a_person_with_two_roles_sees_both_menus_titled(org, changchun_bureau):
    user = member(Role.ASSESSOR, organisation=org)
    member(Role.SUPERVISOR, bureau=changchun_bureau, user=user)
    menu = role_menu(client_for(user).get("/").content.decode())
    assert 'data-role="assessor"' in menu and 'data-role="supervisor"' in menu
    assert "考评员" in menu and "督导员" in menu


def test_the_greeting_and_the_header_use_the_real_name(cc_officer):
    cc_officer.first_name = "刘芳"
    cc_officer.save()
    html = client_for(cc_officer).get("/").content.decode()
    assert "您好,刘芳" in html
    assert cc_officer.username not in header(html)


def test_an_account_without_a_name_is_never_shown_by_its_login(cc_officer):
    """A login is often a phone number or a made-up handle: an account with no name and no person is greeted
    without one, and named by its number in staff columns and case notes."""
    from accounts.models import User

    nameless = User.objects.create_user(username="13900001111", password="x")
    html = client_for(nameless).get("/").content.decode()
    assert "13900001111" not in html
    assert "<h1>您好</h1>" in html and "我的账号" in header(html)
    assert nameless.display_name == f"未实名账号 #{nameless.pk}"
    nameless.first_name = "王磊"
    assert nameless.display_name == "王磊" and nameless.real_name == "王磊"


def _complaint(due_on: datetime.date, number: str) -> Complaint:
    return Complaint.objects.create(
        number=number,
        kind=Complaint._meta.get_field("kind").choices[0][0],
        region=region("220102"),
        description="现场未见考评员",
        received_on=due_on - datetime.timedelta(days=20),
        due_on=due_on,
    )


def test_the_bureau_home_is_a_to_do_list_with_counts_overdue_first(cc_officer, jlc_officer):
    today = timezone.localdate()
    _complaint(today - datetime.timedelta(days=2), "JB-1")
    _complaint(today + datetime.timedelta(days=5), "JB-2")
    html = client_for(cc_officer).get("/").content.decode()
    todos = html[html.index('class="todos"') :]
    todos = todos[: todos.index("</ul>")]
    first = todos[todos.index("<li") : todos.index("</li>")]
    assert 'data-todo="complaints"' in first  # the only list with an overdue item comes first
    assert re.search(r'todo-count">2<', first) and "超期 1" in first and "todo overdue" in first
    assert (today + datetime.timedelta(days=5)).isoformat() in first  # the nearest deadline still to meet
    # Another city's officer counts only their own region's cases.
    other = client_for(jlc_officer).get("/").content.decode()
    row = other[other.index('data-todo="complaints"') :]
    assert re.search(r'todo-count">0<', row[: row.index("</li>")])


def test_every_page_has_its_own_title(cc_officer, org_admin):
    titles = set()
    for client, path in [
        (Client(), "/"),
        (Client(), "/verify/"),
        (client_for(cc_officer), "/"),
        (client_for(cc_officer), "/accreditation/review/"),
        (client_for(org_admin), "/assessments/manage/"),
        (client_for(org_admin), "/certificates/"),
    ]:
        html = client.get(path).content.decode()
        titles.add(re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip())
    assert len(titles) == 6
    assert "职业技能等级认定平台 · 职业技能等级认定平台" not in titles


def test_favicon_ico_is_served():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("favicon.ico")
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


def test_the_footer_identifies_the_site_and_gives_the_hotline(settings):
    settings.SITE_ICP = "吉ICP备20260001号"
    html = Client().get("/").content.decode()
    footer = html[html.index("<footer") :]
    assert 'href="tel:12333"' in footer and "12333" in footer
    assert "mailto:" in footer and "主办" in footer and "吉ICP备20260001号" in footer
