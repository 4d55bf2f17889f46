from django.core.management.base import BaseCommand

from certificates.signing import ALGORITHMS, EDDSA, rotate
from core.audit import audit_record


class Command(BaseCommand):
    help = (
        "Create a new signing key (Ed25519 by default, or SM2 for the regions that chose 国密) and make it the "
        "active key of its algorithm; the previous key of that algorithm is retired: it signs nothing more but "
        "keeps verifying what it signed. On an empty SIGNING_KEYS_DIR this creates the first (Ed25519) key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", choices=ALGORITHMS, default=EDDSA, help="EdDSA (default) or SM2")

    def handle(self, *args, **options):
        rotation = rotate(options["algorithm"])
        # After the rotation, not around it: the key files are not in the database, and a rotated ring with a
        # missing audit entry is better than an audit entry for a rotation that did not happen.
        audit_record(
            actor=None,
            action="signing_key.rotate",
            object_type="signing_key",
            object_id=rotation.active,
            before={"active": rotation.retired},
            after={"active": rotation.active}
            | ({"algorithm": options["algorithm"]} if options["algorithm"] != EDDSA else {}),
        )
        self.stdout.write(f"new active key: {rotation.active}")
        self.stdout.write(f"retired key: {rotation.retired or '(none: this is the first key)'}")
