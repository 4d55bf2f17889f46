"""Several status lists instead of one: a certificate's status-list position becomes (list, index), unique as a pair,
so the platform can hold any number of certificates (one list of 2**22 positions held at most 4,194,304; random
drawing slows past half of that).

Every existing certificate stays where it is: list 0, at its index, published at the URLs its credential names
(/api/v1/credentials/status/{issuer}/{purpose} and the platform-wide /api/v1/credentials/status/{purpose}). List 0
keeps the length it was served with (2**22 bits, or whole 131,072-bit blocks covering the highest index if a
position beyond that exists). It stays open for new certificates unless it is already past the fill threshold, or
longer than the standard capacity (a bulk-loaded database): then the next certificate opens list 1. A small partial
index holds the flagged (revoked, superseded, suspended) positions per list, which is all a list is built from.
"""

import certificates.models
from django.db import migrations, models
from django.db.models import Max

CAPACITY = 2**22  # certificates.models.STATUS_LIST_CAPACITY when this was written
BLOCK = 131_072  # certificates.credentials.STATUS_LIST_BLOCK_BITS
FILL = 0.5  # settings.STATUS_LIST_FILL's default when this was written


def open_list_zero(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    StatusList = apps.get_model("certificates", "StatusList")
    from django.utils import timezone

    highest = max(CAPACITY - 1, Certificate.objects.aggregate(top=Max("status_index"))["top"] or 0)
    capacity = (highest // BLOCK + 1) * BLOCK
    assigned = Certificate.objects.count()
    full = assigned >= capacity * FILL or capacity > CAPACITY
    StatusList.objects.create(number=0, capacity=capacity, assigned=assigned, full_at=timezone.now() if full else None)


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0008_certificate_created_at_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatusList",
            fields=[
                ("number", models.PositiveIntegerField(primary_key=True, serialize=False, verbose_name="列表编号")),
                ("capacity", models.PositiveIntegerField(verbose_name="容量(位)")),
                ("assigned", models.PositiveIntegerField(default=0, verbose_name="已分配位置")),
                ("full_at", models.DateTimeField(blank=True, null=True, verbose_name="停止分配时间")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "证书状态列表",
                "verbose_name_plural": "证书状态列表",
            },
        ),
        # A constant default: PostgreSQL adds the column without rewriting the table.
        migrations.AddField(
            model_name="certificate",
            name="status_list",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="状态列表"),
        ),
        migrations.RunPython(open_list_zero, migrations.RunPython.noop),
        # The pair becomes unique before the index alone stops being so.
        migrations.AddConstraint(
            model_name="certificate",
            constraint=models.UniqueConstraint(
                fields=("status_list", "status_index"), name="uniq_certificate_status_position"
            ),
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(
                condition=models.Q(("status__in", ["revoked", "superseded", "suspended"])),
                fields=["status_list", "status"],
                include=("status_index", "organisation_id"),
                name="certificate_flagged_position",
            ),
        ),
        migrations.AlterField(
            model_name="certificate",
            name="status_index",
            field=models.PositiveIntegerField(
                default=certificates.models.random_status_index, editable=False, verbose_name="状态列表位置"
            ),
        ),
    ]
