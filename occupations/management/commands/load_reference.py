import time

from django.core.management.base import BaseCommand

from occupations.services import reference_load

# A first load adds thousands of rows; listing them all would bury what matters (renames, retirements).
LISTED_ADDITIONS = 50


class Command(BaseCommand):
    help = (
        "Load regions, the 大典 classification, levels, standards and the catalogue from occupations/data/ "
        "(idempotent). --update applies a newer extract and lists what it added, renamed or retired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true", help="also overwrite rows that differ from the files")

    def handle(self, *args, update=False, verbosity=1, **options):
        started = time.monotonic()
        counts = reference_load(update=update)
        elapsed = time.monotonic() - started
        if not counts:
            self.stdout.write("reference data already up to date")
        for key, n in sorted(counts.items()):
            self.stdout.write(f"{key}: {n}")
        added = [c for c in counts.changes if c.what == "added"]
        for change in counts.changes:
            if change.what != "added" or len(added) <= LISTED_ADDITIONS or verbosity > 1:
                self.stdout.write(f"  {change}")
        if len(added) > LISTED_ADDITIONS and verbosity <= 1:
            self.stdout.write(f"  新增 {len(added)} 行(-v 2 逐行列出)")
        self.stdout.write(f"load_reference: {elapsed:.1f} s")
