"""The page gallery: every page of the URL configuration, for every role that may open it, in a real browser at
desktop (1280×800) and phone (390×844) size. Each view is saved to test-artifacts/gallery/<viewport>/<role>/ and
fails on

- a console error or an uncaught script error (the phone contexts run under the site's Content-Security-Policy, so
  an inline style or script shows up there as a console error);
- a failed request: the page itself not answering 200, or any resource it loads failing or answering ≥ 400;
- sideways scrolling (the document wider than the window);
- an axe-core violation of impact serious or critical (axe from its npm package, node_modules/axe-core, installed
  by `make test`; injected with Playwright's add_script_tag, desktop only: the rules do not depend on the width,
  and injecting needs the context to bypass the CSP, which the phone contexts keep);
- a raw code token in the text a person reads (a status or role code such as "needs_review", an action such as
  "panel.assign", a login name such as "employer_admin"); text inside <code>, <pre>, <kbd> and <samp> is shown
  as code on purpose and is not read.

Which pages and roles: the permission matrix's table (tests/test_permission_matrix.py PAGES), every pattern and
every role whose GET answers 200, on the matrix's world (the demo data plus what `_build_world` adds). Roles come
in kinds (KINDS: the visitor; a person as worker, assessor, supervisor or trainer; an organisation's admin, its own
or another's; a bureau officer, the region's or another region's; the operator). The first role of a kind that a
page opens to is shown it in the browser. Another role of that kind gets the page from Django's test client first:
if the page is the same as the first role's but for the header (its menu and name), which the browser has already
checked, the view passes as that page's twin; if anything else differs, it is shown in the browser and checked
like the first. Each role's own header is checked on its home page, which every role sees in the browser. So every
role sees every page it may open, and the browser's time goes to what differs. Downloads (spreadsheets, PDFs,
images, JSON) and pages that are not the platform's (Django's admin, the development identity provider) are left
out below, each with the reason.

One browser, one context per account and viewport, reused; the world is built once (one xdist group, so
`pytest -n auto --dist loadgroup` keeps the whole gallery in one process).
"""

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings

from tests import test_permission_matrix as matrix

from .conftest import ARTIFACTS, screenshot

# Marked for the database (so that running the gallery alone still sets the test database up), but run after every
# other test of the process (tests/browser/conftest.py): its world is committed and flushed at the end, as a
# transactional test's would be.
pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("gallery")]

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
GALLERY = ARTIFACTS / "gallery"

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}

# Patterns that are not pages a person reads, with the reason.
NOT_PAGES = (
    (re.compile(r"(\.xlsx|\.pdf|\.png|pdf/)$"), "a download (spreadsheet, PDF, image)"),
    (re.compile(r"(/photo/?|/evidence/|/download/|/attachments/<int:\w+>/)$"), "a file behind a permission check"),
    (re.compile(r"^\.well-known/|^dev-idp/"), "keys and the development identity provider: JSON, not pages"),
    (re.compile(r"^(healthz|ping)$"), "health checks for the load balancer"),
    (re.compile(r"^admin/$"), "Django's admin site: Django's own pages and styles"),
)
KINDS = (
    ("anonymous",),
    ("worker", "assessor", "supervisor", "trainer"),
    ("org_admin", "other_org_admin"),
    ("bureau", "other_bureau"),
    ("operator",),
)


def not_a_page(route: str) -> str | None:
    return next((reason for pattern, reason in NOT_PAGES if pattern.search(route)), None)


def viewers(spec: matrix.Page) -> list[str]:
    """For each kind of user, the first role of that kind the page opens to (answers 200)."""
    out = []
    for kind in KINDS:
        role = next((r for r in kind if spec.expected(r) == 200), None)
        if role is not None:
            out.append(role)
    return out


def first_of_kind(spec: matrix.Page, role: str) -> str:
    """The role of `role`'s kind that the page is shown to first (in the browser, always)."""
    kind = next(k for k in KINDS if role in k)
    return next(r for r in kind if spec.expected(r) == 200)


def views() -> list:
    out = []
    for route, spec in sorted(matrix.PAGES.items()):
        if not_a_page(route):
            continue
        for role in matrix.ROLES:
            if spec.expected(role) != 200:
                continue
            for viewport in VIEWPORTS:
                out.append(pytest.param(route, role, viewport, id=f"/{route} {role} {viewport}"))
    return out


# What changes from one request to the next or from one role to another of a kind, and is not the page: the header
# (menu, name: checked on each role's home page), per-request tokens and nonces.
VOLATILE = re.compile(
    r'<header class="topbar">.*?</header>|name="csrfmiddlewaretoken" value="[^"]*"|nonce="[^"]*"', re.S
)


# --- Raw codes in the text a person reads ------------------------------------------------------------------------

# Addresses, e-mail addresses, file names and API key prefixes (an organisation's keys told apart by their first
# characters, "sk_" and seven random URL-safe ones, as the audit log names them) are not codes.
NOT_CODE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\bsk_[\w-]{7}(?![\w-])…?"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w-]+\.(?:pdf|png|jpe?g|xlsx|csv|json|js|css|html?|txt|zip|pem|ofd)\b"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cn|com|org|net|gov|test|example|local)\b",
    re.IGNORECASE,
)
CODE_TOKENS = re.compile(
    r"(?<![\w/.-])(?:"
    r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+"  # snake_case: needs_review, employer_admin, second_review
    r"|[a-z]+\.[a-z][a-z_]*(?::\w+)?"  # dotted: panel.assign, assessments.panelmember:20
    r"|[a-z_]+:[a-z_][a-z0-9_]*"  # model-ish references: user:assoc_admin
    r")(?![\w/-])",
    re.ASCII,
)


def test_a_key_prefix_is_not_a_code_but_a_status_is():
    """An API key's prefix is random: one in about 55 is all lowercase letters and digits, which read as snake_case
    (CI failed on "sk_suq2503…" in the audit log once)."""
    never = re.compile(r"(?!)")
    assert code_tokens("对接系统 (sk_suq2503…) · sk_a-B_9xz… · key_prefix → sk_suq2503", never) == ["key_prefix"]
    assert code_tokens("状态 needs_review", never) == ["needs_review"]


def test_a_refused_capture_is_tried_again_and_then_taken_of_the_visible_part():
    from playwright.sync_api import Error as PlaywrightError

    class Page:
        def __init__(self, refusals: int):
            self.refusals, self.taken = refusals, []

        def screenshot(self, path, full_page):
            if self.refusals:
                self.refusals -= 1
                raise PlaywrightError(
                    "Page.screenshot: Protocol error (Page.captureScreenshot): Unable to capture screenshot"
                )
            self.taken.append(full_page)

        def wait_for_timeout(self, ms):
            pass

    for refusals, taken in ((0, [True]), (1, [True]), (2, [False])):
        page = Page(refusals)
        screenshot(page, "x.png")
        assert page.taken == taken
    with pytest.raises(PlaywrightError):  # the visible part refused too: a real failure
        screenshot(Page(3), "x.png")


def _choice_codes() -> set[str]:
    """Every lowercase one-word value of a model field's choices ("approved", "eligible", "submitted"): shown to a
    person, each must have become its label."""
    from django.apps import apps

    codes = set()
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, _label in getattr(f, "flatchoices", None) or ():
                if isinstance(value, str) and re.fullmatch(r"[a-z]{4,}", value):
                    codes.add(value)
    return codes


def code_tokens(text: str, choice_words: re.Pattern) -> list[str]:
    text = NOT_CODE.sub(" ", text)
    found = CODE_TOKENS.findall(text) + choice_words.findall(text)
    return sorted(set(found))


# What a person reads: every text node and the title, not inside code-like elements, scripts or hidden inputs;
# the labels of options and buttons included; text folded in a <details> included (it opens on a tap).
READABLE_TEXT = """() => {
  const skip = 'code, pre, kbd, samp, script, style, noscript, template, textarea, [hidden], [aria-hidden="true"]';
  const parts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el && !el.closest(skip) && node.textContent.trim()) parts.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('input[type=submit], input[type=button], [placeholder]')) {
    if (!el.closest(skip)) parts.push(el.value || '', el.getAttribute('placeholder') || '');
  }
  return parts.join('\\n');
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
}"""


# --- The browser side --------------------------------------------------------------------------------------------


def console_text(message) -> str:
    where = (message.location or {}).get("url", "")
    return f"console error: {message.text}" + (f" ({where})" if where else "")


@dataclass
class Tab:
    """One reused page of one context, with what went wrong since the last navigation."""

    page: object
    problems: list = field(default_factory=list)

    def reset(self) -> None:
        self.problems.clear()


@dataclass
class Gallery:
    world: matrix.World
    base: str
    browser: object
    choice_words: re.Pattern
    tabs: dict = field(default_factory=dict)
    twins: dict = field(default_factory=dict)

    def tab(self, username: str, viewport: str) -> Tab:
        key = (username, viewport)
        if key not in self.tabs:
            # Injecting axe needs the page to run a script the CSP would refuse: desktop contexts bypass it, the
            # phone contexts keep it (and report a page that breaks it as a console error).
            context = self.browser.new_context(locale="zh-CN", bypass_csp=viewport == "desktop", **VIEWPORTS[viewport])
            client = self.world.clients[username]
            cookie = client.cookies.get(django_settings.SESSION_COOKIE_NAME)
            if cookie is not None:
                context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.base}])
            page = context.new_page()
            page.set_default_timeout(20_000)
            tab = Tab(page)
            page.on(
                "console",
                lambda m, t=tab: t.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e, t=tab: t.problems.append(f"script error: {e}"))
            page.on("requestfailed", lambda r, t=tab: t.problems.append(f"request failed: {r.url} ({r.failure})"))
            page.on(
                "response",
                lambda r, t=tab: (
                    t.problems.append(f"HTTP {r.status}: {r.url}")
                    if r.status >= 400 and r.request.resource_type != "document"
                    else None
                ),
            )
            self.tabs[key] = tab
        return self.tabs[key]

    def twin_of(self, route: str, role: str, spec: matrix.Page, url: str) -> str | None:
        """The role of the same kind whose page this one is, but for the header; None when anything else differs
        (then the browser shows it). Asked once per page and role, whatever the viewport."""
        key = (route, role)
        if key not in self.twins:
            first = first_of_kind(spec, role)
            if first == role or route == "":
                self.twins[key] = None
            else:
                pages = []
                # Rolled back at once: the requests write the session row that the browser's requests for this
                # account write too, and a row lock held until the test ends would keep the browser waiting.
                with transaction.atomic():
                    for who in (first, role):
                        cache.clear()
                        response = self.world.client(who, spec).get(url)
                        ok = response.status_code == 200
                        pages.append(VOLATILE.sub("", response.content.decode()) if ok else None)
                    transaction.set_rollback(True)
                self.twins[key] = first if pages[0] is not None and pages[0] == pages[1] else None
        return self.twins[key]

    def close(self) -> None:
        for tab in self.tabs.values():
            tab.page.context.close()


@pytest.fixture(scope="module")
def gallery(django_db_setup, django_db_blocker, browser, tmp_path_factory):
    """The permission matrix's world, committed (the live server's threads read it), served by one live server
    for the whole module; flushed afterwards and the reference tables put back, as after a transactional test."""
    from pytest_django.live_server_helper import LiveServer

    from tests import conftest as root

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs it (npm ci), or run `npm ci` once")
    choice_words = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(_choice_codes())) + r")(?![A-Za-z0-9_])")
    media = tmp_path_factory.mktemp("gallery-media")
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[matrix.MD5], MEDIA_ROOT=media):
        call_command("seed_demo", stdout=io.StringIO())
        world = matrix._build_world()
        # An in-memory SQLite database is one connection, lent to the server's threads (as Django's own
        # LiveServerTestCase does); PostgreSQL's server threads open their own and read the committed world.
        shared = [c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()]
        for conn in shared:
            conn.inc_thread_sharing()
        server = LiveServer("localhost")
        shown = Gallery(world, server.url, browser, choice_words)
        try:
            yield shown
        finally:
            shown.close()
            server.stop()
            for conn in shared:
                conn.dec_thread_sharing()
            call_command("flush", interactive=False, verbosity=0)
            if root._snapshot is not None:
                root._snapshot.restore()
            cache.clear()


def test_every_page_is_in_the_gallery_or_left_out_with_a_reason():
    """Nothing falls through: each pattern of the matrix is shown to someone, or is not a page (with the reason),
    or no role may open it (a POST-only action, a redirect); and every role that may open a page is in it."""
    shown = {route for route, spec in matrix.PAGES.items() if not not_a_page(route) and viewers(spec)}
    left_out = {route for route in matrix.PAGES if not_a_page(route)}
    no_one = {route for route, spec in matrix.PAGES.items() if not any(spec.expected(r) == 200 for r in matrix.ROLES)}
    assert shown | left_out | no_one == set(matrix.PAGES)
    assert len(shown) > 90  # the gallery is most of the site, not a sample
    listed = {(p.values[0], p.values[1]) for p in views()}
    for route in shown:
        spec = matrix.PAGES[route]
        assert {(route, r) for r in matrix.ROLES if spec.expected(r) == 200} <= listed, route


@pytest.mark.parametrize(("route", "role", "viewport"), views())
def test_page(gallery, route, role, viewport):
    spec = matrix.PAGES[route]
    url = matrix._url(route, spec, gallery.world)
    if gallery.twin_of(route, role, spec, url) is not None:
        return  # the same page as its kind's first role's, which the browser checked; this role's header: at home
    user = matrix._user_for(role, spec, gallery.world)
    tab = gallery.tab(user.username if user is not None else "", viewport)
    page = tab.page
    cache.clear()  # rate limits: every view comes from one address
    tab.reset()
    response = page.goto(gallery.base + url, wait_until="load")
    problems = list(tab.problems)
    if response is None or response.status != 200:
        problems.append(f"the page answered {response.status if response else 'nothing'}, not 200")
    if "text/html" not in (response.headers.get("content-type", "") if response else ""):
        problems.append("not an HTML page: add the pattern to NOT_PAGES with the reason")
    shot = GALLERY / viewport / role / (re.sub(r"[^\w.-]+", "_", url.strip("/")) or "home")
    shot.parent.mkdir(parents=True, exist_ok=True)
    screenshot(page, f"{shot}.png")

    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1]:
        problems.append(f"scrolls sideways: the document is {wide[0]} px wide in a {wide[1]} px window")
    tokens = code_tokens(page.evaluate(READABLE_TEXT), gallery.choice_words)
    if tokens:
        problems.append(f"raw codes in the text: {', '.join(tokens)}")
    if viewport == "desktop":
        page.add_script_tag(path=str(AXE))
        problems += [f"axe {v}" for v in page.evaluate(AXE_RUN)]
    problems += [p for p in tab.problems if p not in problems]
    assert not problems, f"{url} as {role} at {viewport}:\n  " + "\n  ".join(problems)
