from django.core.management.base import BaseCommand

from certificates.signing import rotate
from core.audit import audit_record


class Command(BaseCommand):
    help = (
        "Create a new Ed25519 signing key and make it active; the previous key is retired: it signs nothing more "
        "but keeps verifying what it signed. On an empty SIGNING_KEYS_DIR this creates the first key."
    )

    def handle(self, *args, **options):
        rotation = rotate()
        # After the rotation, not around it: the key files are not in the database, and a rotated ring with a
        # missing audit entry is better than an audit entry for a rotation that did not happen.
        audit_record(
            actor=None,
            action="signing_key.rotate",
            object_type="signing_key",
            object_id=rotation.active,
            before={"active": rotation.retired},
            after={"active": rotation.active},
        )
        self.stdout.write(f"new active key: {rotation.active}")
        self.stdout.write(f"retired key: {rotation.retired or '(none: this is the first key)'}")
