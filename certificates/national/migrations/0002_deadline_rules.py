"""The shipped reporting deadlines (data/deadlines.json) as rows, so that a new database has them from the start."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "deadlines.json"


def load(apps, schema_editor):
    DeadlineRule = apps.get_model("national_reporting", "DeadlineRule")
    for row in json.loads(DATA.read_text(encoding="utf-8"))["rules"]:
        DeadlineRule.objects.get_or_create(
            kind=row["kind"],
            region_prefix=row["region_prefix"],
            organisation_kind=row["organisation_kind"],
            effective_from=row["effective_from"],
            defaults={"working_days": row["working_days"], "basis": row["basis"]},
        )


class Migration(migrations.Migration):
    dependencies = [("national_reporting", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
