from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits non-zero when an entry was altered, removed or inserted."

    def handle(self, *args, **options):
        report = audit_verify()
        if not report.ok:
            raise CommandError(f"audit chain broken after {report.checked} good entries: {report.problem}")
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.checked} entries"))
