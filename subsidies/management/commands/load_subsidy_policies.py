from django.core.management.base import BaseCommand

from subsidies.policies import DEMO_FILE, policies_load


class Command(BaseCommand):
    help = "Load the subsidy policies and shortage-occupation lists in subsidies/data/policies.json (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true", help="overwrite operators' edits from the file")
        parser.add_argument(
            "--demo", action="store_true", help="also the demonstration continuation (never in production)"
        )

    def handle(self, *args, **options):
        counts = policies_load(update=options["update"])
        if options["demo"]:
            counts += policies_load(update=options["update"], path=DEMO_FILE)
        if not counts:
            self.stdout.write("补贴政策已是最新,无需变更。")
        for key, n in sorted(counts.items()):
            self.stdout.write(f"  {key}: {n}")
