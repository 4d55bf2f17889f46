"""Playwright driving Debian's chromium against a live server. Skips only where no chromium exists (never in CI)."""

import base64
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django_otp.oath import hotp

from tests.conftest import IN_CI

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    """The page gallery (test_gallery.py) commits the demo world for its live server and flushes it afterwards,
    like a transactional test: it runs last, after the tests that expect the migrated database as it was
    (pytest-django, whose ordering hook runs first, would put its database-marked tests first)."""
    last = [item for item in items if item.nodeid.startswith("tests/browser/test_gallery.py")]
    if last:
        items[:] = [item for item in items if item not in set(last)] + last


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        if IN_CI:
            pytest.fail("CI must have Debian's chromium (scripts/system-deps.sh installs it)")
        pytest.skip("no chromium on this machine: apt-get install chromium")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every journey logs in several times from 127.0.0.1; the login throttle must not carry over between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def screenshot(page, path: str) -> None:
    """A whole page's picture, for people to look through (no check reads it). Chromium's compositor sometimes
    refuses a capture ("Unable to capture screenshot": once in a full CI run, on an ordinary page): tried again,
    then the visible part only, so that a browser's hiccup does not fail a test."""
    from playwright.sync_api import Error as PlaywrightError

    for full_page in (True, True, False):
        try:
            page.screenshot(path=path, full_page=full_page)
            return
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or not full_page:
                raise
            page.wait_for_timeout(200)


class Shots:
    """Screenshots of each step, kept as test artefacts."""

    def __init__(self, name: str):
        self.dir = ARTIFACTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, page, label: str) -> None:
        self.n += 1
        screenshot(page, str(self.dir / f"{self.n:02d}-{label}.png"))


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


SECOND_FACTOR_PAGE = re.compile(r"/accounts/second-factor/(verify|enrol)/")


def login(page, base: str, username: str, password: str) -> None:
    """Sign in through the login page; staff accounts then pass the second-factor page as a person would, with the
    code their authenticator shows (computed here from the device's key), enrolling first if they have none."""
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url == f"{base}/" or bool(SECOND_FACTOR_PAGE.search(url)))
    second_factor(page, username)
    page.wait_for_url(f"{base}/")


def second_factor(page, username: str) -> None:
    """On the verify page: type the current code. On the enrol page: read the secret shown as text, type the code
    an authenticator app would compute from it, then leave the recovery-code page. Elsewhere: nothing to do."""
    found = SECOND_FACTOR_PAGE.search(page.url)
    if found is None:
        return
    if found.group(1) == "verify":
        page.fill("input[name=code]", current_code(username))
        page.click("#verify button[type=submit]")
        return
    secret = page.inner_text("#totp-secret").replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=code]", f"{hotp(key, int(time.time()) // 30):06d}")
    page.click("#enrol button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    page.click("#continue")


def current_code(username: str) -> str:
    """The code the account's authenticator shows now, as the server will accept it: within its tolerance of one
    step, and later than the last code it accepted (a code is good once; a second sign-in within the same 30
    seconds uses the next step's code, or waits for it)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).get()
    while True:
        now_t = (int(time.time()) - device.t0) // device.step + device.drift
        for t in (now_t, now_t + 1):
            if t > device.last_t:
                return f"{hotp(device.bin_key, t, digits=device.digits):0{device.digits}d}"
        time.sleep(device.step - time.time() % device.step + 0.2)


def logout(page) -> None:
    # The logout form, not the language switch that now comes first in the header (it would switch to English).
    page.click("header form[action*='logout'] button")
