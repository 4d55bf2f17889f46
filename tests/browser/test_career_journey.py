"""A worker on a phone opens their career paths from the home page: the title their imported 高级工 certificate
lets them apply for, from when and on what basis; and a school admin uploads a graduating class list with a
mistake, sees the row named, corrects it and approves the class."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from assessments.schools import services as schools
from certificates.models import Certificate
from occupations.models import Level
from tests.accreditation.conftest import xlsx
from tests.assessments.conftest import file_organisation, make_plan
from tests.factories import PersonFactory, bound_user, make_ric, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_worker_sees_their_career_path_on_a_phone(live_server, phone, shots):
    person = PersonFactory(name="张伟")
    Certificate.objects.create(
        number="0822000300012345",
        kind=Certificate.Kind.QUALIFICATION,
        person=person,
        level=Level.objects.get(code="3"),
        holder_name=person.name,
        id_type="居民身份证",
        id_number=person.id_number,
        occupation_name="电工",
        organisation_name="吉林省职业技能鉴定指导中心",
        issued_on=datetime.date(2016, 6, 30),
        region_code="220100",
        imported=True,
        token="historical-demo-token",
    )
    user = bound_user("career", password="career-pass-2026", person=person)
    member(Role.WORKER, user=user)
    login(phone, live_server.url, "career", "career-pass-2026")
    phone.click("#panel-worker >> text=职业发展路径")  # the header menu has it too, folded on a phone
    phone.wait_for_url(f"{live_server.url}/certificates/careers/")
    card = phone.locator("section.card.tile")
    assert card.count() == 1
    text = card.inner_text()
    assert "助理工程师" in text and "已可申报" in text and "2020年12月17日" in text and "96号" in text
    assert "历史证书" in text
    # Nothing wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shots(phone, "career-path")


def test_a_school_uploads_its_class_list_fixes_a_row_and_approves(live_server, page, shots, org, cc_officer, tmp_path):
    org.school_kind = "technical_school"
    org.save(update_fields=["school_kind"])
    admin = member(Role.ORG_ADMIN, organisation=org)
    admin.set_password("school-pass-2026")
    admin.save()
    file_organisation(org, admin, cc_officer)
    plan = make_plan(org, admin, levels=("4", "3"))
    login(page, live_server.url, admin.username, "school-pass-2026")
    page.goto(f"{live_server.url}/assessments/classes/")
    page.select_option("select[name=plan_id]", str(plan.id))
    page.fill("input[name=name]", "2026届电工1班")
    page.fill("input[name=major]", "电气自动化设备安装与维修")
    page.fill("input[name=graduation_date]", str(timezone.localdate() + datetime.timedelta(days=30)))
    page.click("#class-form button")
    page.wait_for_url(f"{live_server.url}/assessments/classes/*/")
    shots(page, "class-created")

    header = [c.header for c in schools.CLASS_COLUMNS]
    good = ["李明", "居民身份证", make_ric(birth=datetime.date(2006, 5, 1), seq=11), "", "四级"]
    wrong = ["王芳", "居民身份证", make_ric(birth=datetime.date(2006, 6, 1), seq=12), "", "三级"]
    bad_file = tmp_path / "class.xlsx"
    bad_file.write_bytes(xlsx([header, good, wrong]).read())
    page.set_input_files("input[name=file]", str(bad_file))
    page.click("#upload-class")
    report = page.locator("#import-report").inner_text()
    assert "未导入任何一行" in report and "3" in report and "不符合三级/高级工申报条件" in report
    shots(page, "class-list-rejected")

    wrong[4] = "四级"
    good_file = tmp_path / "class-fixed.xlsx"
    good_file.write_bytes(xlsx([header, good, wrong]).read())
    page.set_input_files("input[name=file]", str(good_file))
    page.click("#upload-class")
    assert "导入 2 行" in page.locator("#import-report").inner_text()
    page.click("#approve-class")
    assert "已审核通过2人" in page.content()
    assert "审核通过 2 人" in page.locator("#class-summary").inner_text()
    shots(page, "class-approved")
