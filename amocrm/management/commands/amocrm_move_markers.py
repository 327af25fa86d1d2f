"""`manage.py amocrm_move_markers [--from-start]`: take the `[#<lead> <token>]` marker out of delivered deals' names
and put it in the marker field. Safe to run twice; after a failure, run it again to carry on."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from amocrm.api.errors import AmoError
from amocrm.delivery import marker_field, marker_names
from amocrm.delivery.marker_names import MoveSummary
from amocrm.models import Settings


class Command(BaseCommand):
    help = "Move the delivery marker out of delivered deals' names into the marker deal field, 50 deals a request."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from-start", action="store_true", help="Check every delivered deal again.")

    def handle(self, *args, from_start: bool = False, **options) -> None:
        self.verbosity = options["verbosity"]
        conn = Settings.load()
        marker_field.ensure(conn, now=True)
        try:
            summary = marker_names.move_markers(conn, from_start=from_start, progress=self._progress)
        except marker_names.NoMarkerField:
            raise CommandError(conn.marker_field_problem or _("amoCRM has no marker field for deals yet.")) from None
        except AmoError as error:
            message = _("Stopped: %(error)s Run the command again to carry on.") % {"error": error.message}
            raise CommandError(message) from error
        self.stdout.write(self.style.SUCCESS(_summary(summary)))

    def _progress(self, summary: MoveSummary) -> None:
        if self.verbosity >= 2:
            self.stdout.write(_summary(summary))


def _summary(summary: MoveSummary) -> str:
    return _(
        "Deals checked: %(checked)d; markers moved out of the name: %(moved)d; already clean: %(clean)d; "
        "no longer in amoCRM: %(gone)d."
    ) % {
        "checked": summary.checked,
        "moved": summary.moved,
        "clean": summary.already_clean,
        "gone": summary.not_in_amocrm,
    }
