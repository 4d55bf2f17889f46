"""Finding an occupation among 1,674 and a county among 3,300: the pickers of static/js/picker.js."""

import pytest

from accounts.models import Role
from accreditation.models import Organisation
from tests.factories import PASSWORD, make_uscc, member

from . import steps
from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _occupation_box(page):
    return page.locator("div.picker-field:has(input[type=hidden][name=occupation]) input[role=combobox]")


def test_electrician_is_found_by_pinyin_initials_and_by_code_prefix(live_server, page, shots):
    page.goto(f"{live_server.url}/directory/")
    box = _occupation_box(page)
    hidden = page.locator("input[type=hidden][name=occupation]")

    # "dg": the pinyin initials of 电工; picked with the keyboard alone.
    box.fill("dg")
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    first = listbox.locator("li[role=option]").first
    first.wait_for()
    assert first.inner_text().startswith("6-31-01-03 电工")
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    shots(page, "occupation-dg")
    box.press("Enter")
    assert hidden.input_value() == "6-31-01-03"
    assert box.input_value() == "6-31-01-03 电工"
    assert box.get_attribute("aria-expanded") == "false"

    # "6-31": the first digits of the code; picked with the mouse.
    box.fill("6-31")
    option = listbox.locator("li[role=option]", has_text="电工").first
    option.wait_for()
    assert all(
        code.startswith("6-31")
        for code in listbox.locator("li[role=option]").evaluate_all("l => l.map(e => e.dataset.code)")
    )
    shots(page, "occupation-6-31")
    option.click()
    assert hidden.input_value() == "6-31-01-03"

    # The filter submits the code: the directory lists by that occupation.
    page.click("button.primary")
    page.wait_for_url("**/directory/?*occupation=6-31-01-03*")
    assert _occupation_box(page).input_value() == "6-31-01-03 电工"


def test_a_county_is_picked_province_prefecture_county_in_the_sign_up_form(live_server, page, shots):
    org = {
        "name": "长春南关技能评价中心",
        "kind": "S",
        "credit_code": make_uscc(5151),
        "region_code": "220102",  # 吉林省 → 长春市 → 南关区
        "contact_name": "南晓关",
        "contact_phone": "13943100001",
    }
    steps.organisation_register(
        page, live_server.url, shots, username="nanguan_admin", password="Nan-guan-2026!", org=org
    )
    created = Organisation.objects.select_related("region").get(name=org["name"])
    assert created.region.code == "220102" and created.region.full_name == "吉林省长春市南关区"


def test_a_region_is_found_by_typing_its_initials(live_server, page):
    page.goto(f"{live_server.url}/directory/")
    box = page.locator("div.picker-field:has(input[type=hidden][name=region]) input[role=combobox]")
    box.fill("ccs")
    option = page.locator("li[role=option]", has_text="长春市").first
    option.wait_for()
    option.click()
    assert page.locator("input[type=hidden][name=region]").input_value() == "220100"


def test_an_officer_of_two_bureaus_picks_only_inside_them_on_the_dashboard(
    live_server, page, shots, changchun_bureau, jilin_city_bureau
):
    officer = member(Role.BUREAU_STAFF, bureau=changchun_bureau)
    member(Role.BUREAU_STAFF, bureau=jilin_city_bureau, user=officer)
    login(page, live_server.url, officer.username, PASSWORD)
    page.goto(f"{live_server.url}/oversight/dashboard/")
    field = page.locator("div.picker-field:has(input[type=hidden][name=region])")
    box = field.locator("input[role=combobox]")

    # Typing: 广州市 is outside both bureaus and is not offered; 长春市 is.
    box.fill("gzs")
    field.locator("li", has_text="没有匹配的结果").wait_for()
    box.fill("ccs")
    field.locator("li[role=option]", has_text="长春市").first.wait_for()
    codes = field.locator("li[role=option]").evaluate_all("l => l.map(e => e.dataset.code)")
    assert codes and all(c.startswith(("2201", "2202")) for c in codes)

    # The lists: the first names the two bureaus' regions, the next a region's counties.
    first = field.locator(".picker-cascade select[data-depth='0']")
    first.locator("option[value='220200']").wait_for(state="attached")
    assert first.locator("option").evaluate_all("l => l.map(e => e.value)") == ["", "220100", "220200"]
    first.select_option("220100")
    counties = field.locator(".picker-cascade select[data-depth='2']")
    counties.locator("option[value='220102']").wait_for(state="attached")
    assert all(c.startswith("2201") for c in counties.locator("option").evaluate_all("l => l.map(e => e.value)")[1:])
    counties.select_option("220102")
    assert field.locator("input[type=hidden][name=region]").input_value() == "220102"
    shots(page, "dashboard-region")
    page.click("form.row:has(input[name=region]) button")
    page.wait_for_url("**/oversight/dashboard/?*region=220102*")
    assert "吉林省长春市南关区" in page.inner_text("#board-window")


def test_the_filing_scope_and_an_appointment_narrow_their_occupations_as_the_pickers_search(live_server, page, shots):
    """The two forms that list occupations (only those with a standard, one row or option each) filter as the pickers
    search; what was ticked or selected stays chosen while hidden, and is sent."""
    from accreditation.models import Filing
    from tests.factories import OrganisationFactory

    org = OrganisationFactory()
    admin = member(Role.ORG_ADMIN, organisation=org)
    login(page, live_server.url, admin.username, PASSWORD)

    page.goto(f"{live_server.url}/accreditation/organisations/{org.id}/filings/new/")
    box = page.locator("input[data-list-filter=scope-rows]")
    shown = "l => l.filter(e => !e.hidden).map(e => e.dataset.code)"
    box.fill("dg")
    codes = page.locator("#scope-rows tr").evaluate_all(shown)
    assert "6-31-01-03" in codes and len(codes) < page.locator("#scope-rows tr").count()
    assert "个职业符合" in page.inner_text("#scope-rows-status")
    page.check("input[name=scope][value='6-31-01-03:4']")
    box.fill("6-31")
    assert all(c.startswith("6-31") for c in page.locator("#scope-rows tr").evaluate_all(shown))
    box.fill("zspts")  # 中式烹调师
    assert page.locator("#scope-rows tr").evaluate_all(shown) == ["4-03-02-01"]
    page.check("input[name=scope][value='4-03-02-01:5']")
    shots(page, "filing-scope-filter")
    page.click("form button.primary")
    page.wait_for_url("**/accreditation/filings/*/")
    filing = Filing.objects.get(organisation=org)
    lines = {(line.occupation.code, lv.code) for line in filing.scope_lines.all() for lv in line.levels.all()}
    assert lines == {("6-31-01-03", "4"), ("4-03-02-01", "5")}  # the row hidden by the filter was sent too

    page.goto(f"{live_server.url}/accreditation/organisations/{org.id}/people/")
    box = page.locator("input[data-list-filter=appointment-occupations]")
    box.fill("dg")
    options = page.locator("#appointment-occupations option")
    assert "6-31-01-03" in options.evaluate_all(shown)
    assert "4-03-02-01" not in options.evaluate_all(shown)
