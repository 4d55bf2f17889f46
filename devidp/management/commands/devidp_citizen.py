from django.core.management.base import BaseCommand, CommandError

from devidp.models import Citizen


class Command(BaseCommand):
    help = "Create or update a citizen of the local identity provider (development only)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--id-number", required=True)
        parser.add_argument("--id-type", default="ric")
        parser.add_argument("--assurance", default="L3", choices=Citizen.Assurance.values)

    def handle(self, *args, **options):
        if not options["password"]:
            raise CommandError("a password is required")
        citizen = Citizen.objects.filter(username=options["username"]).first() or Citizen(username=options["username"])
        citizen.name = options["name"]
        citizen.id_type = options["id_type"]
        citizen.id_number = options["id_number"].strip().upper()
        citizen.assurance = options["assurance"]
        citizen.set_password(options["password"])
        citizen.full_clean()
        citizen.save()
        self.stdout.write(f"{citizen.username}: {citizen.name} ({citizen.assurance}), subject {citizen.subject}")
