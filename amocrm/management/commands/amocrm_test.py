"""`manage.py amocrm_test [--send-test-lead] [--lang ru]`: is the amoCRM connection healthy? Exit 1 with one line
saying why if not. Prints its own lines only, in the site's language; log lines only with -v 2."""

import logging
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from amocrm import diagnostics


class Command(BaseCommand):
    help = "Check the amoCRM settings, token and account; print account, pipeline, stage, token expiry and limiter."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--send-test-lead", action="store_true", help="Also create one test deal with a contact and print its URL."
        )
        parser.add_argument(
            "--lang", choices=[code for code, _name in settings.LANGUAGES], help="Language of the report "
            "(default: LANGUAGE_CODE)."
        )  # fmt: skip

    def handle(self, *args, send_test_lead: bool = False, lang: str | None = None, **options) -> None:
        with translation.override(lang or settings.LANGUAGE_CODE), _logs_only_if(options["verbosity"] >= 2):
            report = diagnostics.run_checks(send_test_lead=send_test_lead)
            for label, value in report.facts:
                self.stdout.write(f"{label}: {value}")
            if not report.ok:
                raise CommandError(report.problem)  # printed last, on its own line
            self.stdout.write(self.style.SUCCESS(_("amoCRM: all is well")))


@contextmanager
def _logs_only_if(verbose: bool):
    """The report says what went wrong in words; the log lines behind it are for -v 2."""
    if not verbose:
        logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
