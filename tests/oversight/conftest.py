"""Shared set-up for oversight tests: the URLs (until the project mounts them), a clean cache for rate limits and
single-use challenges, uploads in a temporary folder, and helpers to answer the reporting form's question."""

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from tests.certificates.conftest import _keys, finalise, finalised_plan, issue  # noqa: F401  (real issuance)

_NUMERALS = {ch: i for i, ch in enumerate("零一二三四五六七八九")}


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def chinese_to_int(text: str) -> int:
    """十五 → 15, 二十三 → 23, 七 → 7: what a person reading the question does."""
    if "十" in text:
        tens, _sep, ones = text.partition("十")
        return (_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0)
    return _NUMERALS[text]


def answer(question: str) -> str:
    a, op, b = re.match(r"(.+?)(加|减)(.+?)等于", question).groups()
    x, y = chinese_to_int(a), chinese_to_int(b)
    return str(x + y if op == "加" else x - y)


def form_challenge(html: str) -> tuple[str, str]:
    """(token, correct answer) read off the reporting page."""
    token = re.search(r'name="challenge_token" value="([^"]+)"', html).group(1)
    question = re.search(r'id="challenge-question">([^<]+)<', html).group(1)
    return token, answer(question)


def report_form(client, url: str = "/oversight/report/", **fields) -> dict:
    """A filled-in reporting form with a fresh, correctly answered challenge."""
    token, value = form_challenge(client.get(url).content.decode())
    return {"challenge_token": token, "challenge_answer": value, "website": "", **fields}


def pdf(name: str = "证据.pdf", size: int = 200) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"0" * max(size - 9, 1), content_type="application/pdf")


def xlsx(rows: list[list], name: str = "records.xlsx") -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())
