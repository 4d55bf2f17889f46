"""The header in a real browser: on a phone the role menu folds behind 菜单 (site.js, no inline script) while the
public entries stay in sight; on a desktop the menu is a bar; the language switch turns the page into English."""

import pytest

from tests.factories import PASSWORD

from .conftest import Shots, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_phone_menu_opens_and_closes_and_leads_to_the_work(live_server, phone, cc_officer):
    base = live_server.url
    shots = Shots("navigation-phone")
    errors: list[str] = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    cc_officer.first_name = "刘芳"
    cc_officer.save()
    login(phone, base, cc_officer.username, PASSWORD)
    toggle = phone.locator("#nav-toggle")
    menu = phone.locator("#role-nav")
    # Folded: the public entries are in sight, the work menu is not.
    for entry in ("证书查询", "认定计划", "举报"):
        assert phone.locator(".public-nav a", has_text=entry).is_visible()
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    assert _no_sideways_scroll(phone)
    assert phone.locator(".who").inner_text() == "刘芳"
    shots(phone, "folded")
    toggle.click()
    assert menu.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert _no_sideways_scroll(phone)
    shots(phone, "open")
    phone.keyboard.press("Escape")
    assert not menu.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    menu.get_by_role("link", name="补贴审核").click()
    phone.wait_for_url(f"{base}/subsidies/queue/")
    assert phone.locator("#role-nav a[aria-current=page]").inner_text() == "补贴审核"
    assert errors == []


def test_the_desktop_shows_the_menu_as_a_bar(live_server, page, cc_officer):
    base = live_server.url
    login(page, base, cc_officer.username, PASSWORD)
    assert page.locator("#role-nav").is_visible() and not page.locator("#nav-toggle").is_visible()
    page.locator("#role-nav").get_by_role("link", name="审计日志").click()
    page.wait_for_url(f"{base}/oversight/audit/")


def test_the_language_switch_on_a_phone(live_server, phone):
    base = live_server.url
    phone.goto(f"{base}/verify/")
    phone.get_by_role("button", name="English").click()
    phone.wait_for_url(f"{base}/verify/")
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.locator("h1").inner_text() == "Skill level certificate lookup"
    assert _no_sideways_scroll(phone)
    phone.get_by_role("button", name="中文").click()
    phone.wait_for_url(f"{base}/verify/")
    assert phone.locator("h1").inner_text() == "职业技能等级证书查询"
