from django.core.management.base import BaseCommand

from occupations.services import reference_load


class Command(BaseCommand):
    help = "Load regions, levels, occupations, standards and the catalogue from occupations/data/ (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true", help="also overwrite rows that differ from the files")

    def handle(self, *args, update=False, **options):
        counts = reference_load(update=update)
        if not counts:
            self.stdout.write("reference data already up to date")
        for key, n in sorted(counts.items()):
            self.stdout.write(f"{key}: {n}")
