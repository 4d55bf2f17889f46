"""The regions known to review results before certificates are issued (DOMAIN: 广东, 深圳). Dates and working days
are editable data (admin: 成绩审核政策); check them against the regions' current documents."""

import datetime

from django.db import migrations

POLICIES = [
    {
        "region_prefix": "44",
        "effective_from": datetime.date(2021, 1, 1),
        "working_days": 5,
        "basis": "广东省职业技能等级认定:评价机构报送认定结果,人社部门审核后发证(核对当地现行文件)",
    },
    {
        "region_prefix": "4403",
        "effective_from": datetime.date(2021, 1, 1),
        "working_days": 5,
        "basis": "深圳市职业技能等级认定:认定结果经市人社部门审核后发证(核对当地现行文件)",
    },
]


def add(apps, schema_editor):
    Policy = apps.get_model("assessments", "ResultReviewPolicy")
    for row in POLICIES:
        Policy.objects.get_or_create(
            region_prefix=row["region_prefix"],
            effective_from=row["effective_from"],
            defaults={"required": True, "working_days": row["working_days"], "basis": row["basis"]},
        )


def remove(apps, schema_editor):
    Policy = apps.get_model("assessments", "ResultReviewPolicy")
    for row in POLICIES:
        Policy.objects.filter(region_prefix=row["region_prefix"], effective_from=row["effective_from"]).delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_squashed")]
    operations = [migrations.RunPython(add, remove)]
