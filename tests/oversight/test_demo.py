"""The oversight demo: an open report, one on the exposure list, a 挂证 flag, an overdue rectification; twice."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from oversight.models import Complaint, Exposure, GuazhengFlag, Inspection, Rectification
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _counts() -> tuple:
    return (
        Complaint.objects.count(),
        Exposure.objects.count(),
        GuazhengFlag.objects.count(),
        Inspection.objects.count(),
        Rectification.objects.count(),
    )


def test_the_demo_shows_every_oversight_feature_and_can_run_again(client, capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert Complaint.objects.filter(status__in=Complaint.OPEN).exists()
    assert Exposure.objects.filter(withdrawn_at__isnull=True).exists()
    assert GuazhengFlag.objects.filter(status="open").exists()
    assert Rectification.objects.filter(status="open", due_on__lt=timezone.localdate()).exists()
    assert "/oversight/report/" in capsys.readouterr().out
    officer = client_for(User.objects.get(username="cc_officer"))
    board = officer.get("/oversight/dashboard/").content.decode()
    assert 'id="fig-flags-open">0<' not in board and 'id="fig-complaints-open">0<' not in board
    assert "物流师" in client.get(f"/oversight/exposures/{Exposure.objects.first().id}/").content.decode()
