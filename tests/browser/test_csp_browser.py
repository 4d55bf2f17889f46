"""The Content-Security-Policy holds in a real browser: the pages that had inline scripts, styles and handlers
work without them, the API docs run from the platform's own files, and nothing is refused or fetched elsewhere."""

import pytest

from tests.factories import PASSWORD

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page, base: str) -> tuple[list[str], list[str]]:
    refused: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None,
    )
    return refused, elsewhere


def test_the_api_docs_run_from_the_platforms_own_files(live_server, page):
    base = live_server.url
    refused, elsewhere = _watch(page, base)
    response = page.goto(f"{base}/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .information-container", timeout=30_000)
    page.wait_for_selector(".opblock-tag", timeout=30_000)  # the operations were read from /api/v1/openapi.json
    assert refused == [] and elsewhere == []


def test_pages_that_had_inline_code_work_under_the_policy(live_server, page, cc_officer):
    base = live_server.url
    refused, elsewhere = _watch(page, base)
    for path in ("/", "/verify/", "/directory/", "/oversight/report/", "/admin/login/"):
        page.goto(f"{base}{path}")
    login(page, base, cc_officer.username, PASSWORD)
    page.goto(f"{base}/oversight/dashboard/")
    assert page.locator("svg.chart rect.bar").count() > 0
    fill = page.eval_on_selector("svg.chart rect.bar", "el => getComputedStyle(el).fill")
    assert fill not in ("", "none", "rgb(0, 0, 0)"), fill  # coloured by the stylesheet, not a style attribute
    page.goto(f"{base}/subsidies/statistics/")
    assert refused == [] and elsewhere == []


def test_a_confirm_button_still_asks(live_server, page):
    """data-confirm (static/js/site.js) replaces onclick="return confirm(…)": dismissing the question stops the
    form; the element is made here, as the pages make it, so the test needs no assessment."""
    base = live_server.url
    refused, _elsewhere = _watch(page, base)
    page.goto(f"{base}/verify/")
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.action = "/verify/"; form.method = "get";
            form.innerHTML = '<button id="b" data-confirm="确定吗?">go</button>';
            document.querySelector("main").appendChild(form);
        }"""
    )
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#b")
    page.wait_for_timeout(300)
    assert asked == ["确定吗?"] and page.url == f"{base}/verify/"
    assert refused == []
