"""A Content-Security-Policy on every response, and nothing in the templates that it would have to allow."""

import re
from pathlib import Path

import pytest

from config.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
POLICY = ContentSecurityPolicyMiddleware.POLICY


@pytest.mark.parametrize(
    "path", ["/", "/directory/", "/v/not-a-token", "/api/v1/reference/catalogue", "/api/v1/docs", "/admin/login/"]
)
def test_every_response_carries_the_policy(client, path):
    r = client.get(path)
    assert r["Content-Security-Policy"] == POLICY
    assert "script-src 'self';" in POLICY and "unsafe" not in POLICY and "frame-ancestors 'none'" in POLICY


def test_no_template_needs_inline_script_or_style():
    """An inline <script>, a <style> block, a style="" or on…="" attribute or a javascript: link would be refused
    by the policy (static/js/site.js and the stylesheets do their work)."""
    pattern = re.compile(r"<script(?![^>]*\bsrc=)|<style\b|\sstyle=|\son[a-z]+\s*=|javascript:", re.I)
    templates = [
        p
        for p in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
        if "certificate_pdf" not in p.name  # rendered to PDF by WeasyPrint, never served as a page
    ]
    assert len(templates) > 50
    offenders = [str(p.relative_to(ROOT)) for p in templates if pattern.search(p.read_text())]
    assert offenders == []


def test_the_dashboard_charts_are_coloured_by_class():
    from oversight.dashboards import bar_chart, column_chart

    for svg in (bar_chart([("电工", 3)], title="t"), column_chart([("2026-01", 3)], title="t")):
        assert 'class="bar' in svg and "style=" not in svg


def test_the_api_docs_load_nothing_from_elsewhere(client):
    page = client.get("/api/v1/docs").content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page)
    assert urls and all(u.startswith("/static/") for u in urls), urls
    assert not re.search(r"https?://(?!www\.w3\.org)", page)
    assert '"validatorUrl": null' in page  # Swagger UI would otherwise load a badge from the public validator
