"""The English locale: foreign employers read the public verification page and the certificate lookup in English,
reached by the header's language switch; the committed .mo is the .po compiled (no gettext needed to run)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, pgettext

from certificates.models import Certificate
from tests.factories import issued_certificates

pytestmark = pytest.mark.django_db

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(
    r'(?:msgctxt "(?P<ctx>[^"]*)"\n)?msgid "(?P<id>(?:[^"\\]|\\.)+)"\nmsgstr "(?P<str>(?:[^"\\]|\\.)+)"\n'
)


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def test_the_compiled_catalogue_is_the_po_file():
    entries = list(ENTRY.finditer(PO.read_text(encoding="utf-8")))
    assert len(entries) > 50
    with translation.override("en"):
        for m in entries:
            msgid, msgstr = _unescape(m["id"]), _unescape(m["str"])
            got = pgettext(m["ctx"], msgid) if m["ctx"] else gettext(msgid)
            assert got == msgstr, f"locale/en django.mo is stale for {msgid!r}: run compilemessages -l en"


@pytest.fixture
def issued(finalised_plan, org_admin):
    issued_certificates(finalised_plan, org_admin)
    return Certificate.objects.order_by("number").first()


def english(client: Client, back_to: str) -> None:
    """What the header's language switch does: a POST to Django's set_language with the page to return to."""
    r = client.post("/i18n/setlang/", {"language": "en", "next": back_to})
    assert r.status_code == 302 and r["Location"] == back_to


def test_the_verification_page_reads_in_english_after_the_switch(issued):
    client = Client()
    page = client.get(f"/v/{issued.token}").content.decode()
    assert 'name="language" value="en"' in page and "证书有效" in page
    english(client, f"/v/{issued.token}")
    page = client.get(f"/v/{issued.token}").content.decode()
    assert '<html lang="en">' in page
    for words in ["Certificate valid", "Certificate number", "Date of issue", "Vocational Skill Level Certificate"]:
        assert words in page, words
    for chinese in ["证书有效", "证书编号", "发证日期", "核验时间", "按编号查询", "举报"]:
        assert chinese not in re.sub(r"<[^>]+>", " ", page), chinese
    assert "12333" in page and "Run by" in page
    assert 'name="language" value="zh-hans"' in page  # and back


def test_the_level_reads_in_english_on_the_english_page_only(issued):
    """The level's English name comes from the reference data (levels.json); the certificate, its credential and
    the national records keep the official Chinese label whatever the reader's language."""
    level = issued.level
    assert level.name_en and level.name_en != level.label
    client = Client()
    chinese_page = client.get(f"/v/{issued.token}").content.decode()
    assert f"<dd>{level.label}</dd>" in chinese_page and level.name_en not in chinese_page
    english(client, f"/v/{issued.token}")
    page = client.get(f"/v/{issued.token}").content.decode()
    assert f"<dd>{level.name_en}</dd>" in page and level.label not in page
    with translation.override("en"):
        assert level.label == f"{level.name}/{level.title}" if level.title else level.name
    # Verified again in Chinese: the answer kept for the token is per language.
    assert f"<dd>{level.label}</dd>" in Client().get(f"/v/{issued.token}").content.decode()


def test_the_lookup_reads_in_english_and_names_the_status(issued):
    client = Client()
    english(client, "/verify/")
    page = client.get("/verify/").content.decode()
    assert "Skill level certificate lookup" in page and "ID number" in page and "Look up" in page
    r = client.post("/verify/", {"number": issued.number, "name": issued.holder_name, "id_number": issued.id_number})
    assert "Certificate valid" in r.content.decode()
