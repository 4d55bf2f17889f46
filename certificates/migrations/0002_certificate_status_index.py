"""Each certificate's position in the credential status lists becomes a random, unique one (it was the primary key,
which told anyone reading a list how many certificates exist and, from a revoked bit, which one it was).

Existing certificates get positions drawn at random from the same range new ones use. A credential exported before
this names its old position (the primary key): ask holders to export their credential again; its signature stays
valid, but a verifier reading the new list at the old position would learn nothing about that certificate.
"""

import random

import certificates.models
from django.db import migrations, models

CAPACITY = 2**22  # certificates.models.STATUS_LIST_CAPACITY when this was written


def assign_random_positions(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    ids = list(Certificate.objects.order_by("pk").values_list("pk", flat=True))
    positions = random.SystemRandom().sample(range(max(CAPACITY, 2 * len(ids))), len(ids))
    for start in range(0, len(ids), 2000):
        batch = [Certificate(pk=pk, status_index=pos) for pk, pos in zip(ids[start : start + 2000], positions[start:])]
        Certificate.objects.bulk_update(batch, ["status_index"])


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="status_index",
            field=models.PositiveIntegerField(null=True, editable=False, verbose_name="状态列表位置"),
        ),
        migrations.RunPython(assign_random_positions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certificate",
            name="status_index",
            field=models.PositiveIntegerField(
                default=certificates.models.random_status_index,
                editable=False,
                unique=True,
                verbose_name="状态列表位置",
            ),
        ),
    ]
