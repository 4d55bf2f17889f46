"""An organisation applies, the bureau approves, the organisation appears in the public directory."""

import pytest

from accounts.models import Role
from tests.factories import PASSWORD, BureauFactory, make_uscc, member, region

from . import steps
from .conftest import logout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_apply_approve_and_publish(live_server, page, shots, tmp_path):
    base = live_server.url
    officer = member(Role.BUREAU_STAFF, bureau=BureauFactory(name="长春市人社局", region=region("220100")))

    # The organisation signs up and applies.
    org = {
        "name": "长春春华职业技能评价中心",
        "kind": "S",
        "credit_code": make_uscc(4242),
        "region_code": "220104",
        "contact_name": "林春华",
        "contact_phone": "13943100000",
    }
    steps.organisation_register(page, base, shots, username="chunhua_admin", password="Chun-hua-2026!", org=org)
    steps.filing_apply(page, shots, tmp_path, scope=["6-31-01-03:5", "6-31-01-03:4", "4-03-02-07:5"])
    logout(page)

    # The bureau reviews and approves.
    prefix = steps.filing_approve(page, base, shots, officer=officer.username, password=PASSWORD, org_name=org["name"])
    assert prefix.startswith("S000022") and len(prefix) == 13

    # Anyone finds it in the directory.
    page.goto(f"{base}/directory/?occupation=6-31-01-03")
    row = page.locator("#directory tr", has_text="长春春华职业技能评价中心")
    assert "已备案" in row.inner_text()
    assert "电工" in row.inner_text()
    shots(page, "directory")
