"""What deploy/cluster's load balancer must agree on with the application's settings."""

import re
from pathlib import Path

from django.conf import settings

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "cluster"


def test_the_balancer_sends_exactly_the_public_read_paths_to_the_public_backend():
    # The paths are prefixes in both places; a path added to PUBLIC_READ_PATHS alone would be checked against the
    # primary's health and go down with it.
    listed = re.search(r'^PUBLIC_READ_PATHS="([^"]*)"', SCRIPT.read_text(), re.M).group(1).split()
    assert all(re.fullmatch(r"[/\w.-]+", p) for p in settings.PUBLIC_READ_PATHS), "plain prefixes, no patterns"
    assert listed == list(settings.PUBLIC_READ_PATHS)
