"""No raw code reaches a person (issue 17, "one vocabulary"): the demo's pages, opened by each demo login through
every entry of their menus, show statuses, roles, actions and objects in words, never as `snake_case`, dotted
action codes (`panel.assign`) or model choice values (`approved`, `needs_review`)."""

import html as html_lib
import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command

from accounts.actors import Actor
from accounts.models import User
from assessments.models import Plan, Registration
from certificates.models import Certificate
from config.navigation import menus_for
from core.audit_words import ENTITY_LABELS
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

DEMO_LOGINS = ["jl_officer", "cc_officer", "employer_admin", "assoc_admin", "assessor1", "supervisor1", "worker1"]

HIDDEN = re.compile(r"<(script|style|head|textarea|pre)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PREFIXES = sorted({*ENTITY_LABELS, *(c.label for c in apps.get_app_configs())}, key=len, reverse=True)
DOTTED = re.compile(r"\b(?:" + "|".join(map(re.escape, PREFIXES)) + r")\.[a-z_]+\b")


def choice_values() -> set[str]:
    """Every lowercase English word a model stores as a choice value (and the eligibility results)."""
    values = set(Registration.ELIGIBILITY_LABELS)
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, _label in getattr(f, "flatchoices", None) or []:
                if isinstance(value, str) and re.fullmatch(r"[a-z]{4,}", value):
                    values.add(value)
    return values


ADDRESSES = re.compile(r"[\w.+-]+@[\w.-]+|https?://\S+")


def visible_text(page: str) -> str:
    """The text a person reads: no markup, scripts or styles; e-mail and web addresses are not codes."""
    return ADDRESSES.sub(" ", html_lib.unescape(TAG.sub(" ", HIDDEN.sub(" ", page))))


def raw_codes(page: str, words: set[str]) -> list[str]:
    text = visible_text(page)
    found = SNAKE.findall(text) + DOTTED.findall(text)
    found += [w for w in re.findall(r"\b[a-z]{4,}\b", text) if w in words]
    return found


@pytest.fixture(scope="module")
def words():
    return choice_values()


def test_the_code_detector_catches_the_complaints_of_issue_17(words):
    assert raw_codes("<p>approved: 32 submitted: 1</p>", words) == ["approved", "submitted"]
    assert raw_codes("<td>panel.assign</td><td>assessments.panelmember:20</td>", words) == [
        "panel.assign",
        "assessments.panelmember",
    ]
    assert raw_codes("<td>user:assoc_admin</td><span>needs_review</span>", words) == ["assoc_admin", "needs_review"]
    assert raw_codes("<p>审核通过 32 · 待审核 1</p><script>var needs_review;</script>", words) == []


def test_no_page_of_the_demo_shows_a_raw_code(words):
    cache.clear()
    call_command("seed_demo", verbosity=0)
    cache.clear()
    problems = {}
    for username in DEMO_LOGINS:
        user = User.objects.get(username=username)
        client = client_for(user)
        paths = {"/"}
        for menu in menus_for(Actor.for_user(user)):
            paths |= {item.url for item in menu.items if not item.url.startswith("/admin/")}
        if username in ("employer_admin", "assoc_admin"):
            paths |= {f"/assessments/manage/{p.id}/" for p in Plan.objects.filter(organisation__members__user=user)}
        for path in sorted(paths):
            response = client.get(path, follow=True)
            assert response.status_code == 200, (username, path, response.status_code)
            found = raw_codes(response.content.decode(), words)
            if found:
                problems[f"{username} {path}"] = sorted(set(found))
    anonymous = client_for(None)
    certificate = Certificate.objects.exclude(token="").first()
    for path in ["/", "/verify/", "/assessments/plans/", "/directory/", f"/v/{certificate.token}"]:
        found = raw_codes(anonymous.get(path).content.decode(), words)
        if found:
            problems[f"anonymous {path}"] = sorted(set(found))
    assert problems == {}, "\n".join(f"{page}: {codes}" for page, codes in problems.items())
