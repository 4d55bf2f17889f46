"""The national default for keeping exam evidence: electronic archives at least five years (the workflow's archives
rule; regions that keep longer add their own row, admin: 考务资料保存期限)."""

import datetime

from django.db import migrations


def add(apps, schema_editor):
    Policy = apps.get_model("assessments", "EvidenceRetentionPolicy")
    Policy.objects.get_or_create(
        region_prefix="",
        effective_from=datetime.date(2020, 1, 1),
        defaults={
            "retention_months": 60,
            "required_kinds": ["room_photo", "report", "attendance"],
            "basis": "职业技能等级认定工作规程(试行):认定档案电子资料保存不少于5年(各地可更长)",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("assessments", "EvidenceRetentionPolicy").objects.filter(
        region_prefix="", effective_from=datetime.date(2020, 1, 1)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0004_result_review_policies")]
    operations = [migrations.RunPython(add, remove)]
