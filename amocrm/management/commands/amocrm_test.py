"""`manage.py amocrm_test [--send-test-lead]`: is the amoCRM connection healthy? Exit 1 with one line if not."""

from django.core.management.base import BaseCommand, CommandError

from amocrm import diagnostics


class Command(BaseCommand):
    help = "Check the amoCRM settings, token and account; print account, pipeline, stage, token expiry and limiter."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--send-test-lead", action="store_true", help="Also create one test deal with a contact and print its URL."
        )

    def handle(self, *args, send_test_lead: bool = False, **options) -> None:
        report = diagnostics.run_checks(send_test_lead=send_test_lead)
        for label, value in report.facts:
            self.stdout.write(f"{label}: {value}")
        if not report.ok:
            raise CommandError(report.problem)
        self.stdout.write(self.style.SUCCESS("amoCRM: all is well"))
