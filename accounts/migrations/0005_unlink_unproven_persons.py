"""Accounts that came to act as a person without proof lose that link (issue 13, item 1).

Before bindings needed proof, submitting a registration with any name and ID number set User.person. Such a link
has no live IdentityBinding behind it; it is dropped here so that the real person can still bind (a stale link
would otherwise block them as "already bound to another account"). Bindings made through accounts.binding keep
their link. The person records themselves are untouched.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef


def unlink_unproven(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    IdentityBinding = apps.get_model("accounts", "IdentityBinding")
    proven = IdentityBinding.objects.filter(user=OuterRef("pk"), person=OuterRef("person"), ended_at__isnull=True)
    User.objects.filter(person__isnull=False).exclude(Exists(proven)).update(person=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_user_phone")]

    operations = [migrations.RunPython(unlink_unproven, migrations.RunPython.noop)]
