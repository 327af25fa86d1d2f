"""The lead list's export: what the list shows (its filters, search and order) as CSV or XLSX, with each lead's
delivery state, deal link, stage, outcome and answer time.

Both stream from the database in chunks (`.iterator(chunk_size=…)`), so 100,000 leads never sit in memory: the CSV
goes out as it is written (StreamingHttpResponse); the XLSX is written row by row into XlsxWriter's temporary files
(constant_memory) and sent from a temporary file, since a ZIP container can only be finished at the end.
"""

import csv
import tempfile
from collections.abc import Iterator

import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from amocrm.models import DealStage, Delivery, DeliveryState, Settings
from amocrm.sync.outcomes import AnswerSeconds
from leads.models import Lead

CHUNK = 2000


class LeadExportMixin:
    """Adds export/csv/ and export/xlsx/ to the lead admin; the list links to them with its own query string."""

    change_list_template = "admin/amocrm/lead_change_list.html"

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("export/csv/", wrap(self.export_csv), name="leads_lead_export_csv"),
            path("export/xlsx/", wrap(self.export_xlsx), name="leads_lead_export_xlsx"),
            *super().get_urls(),
        ]

    def exported_leads(self, request: HttpRequest) -> QuerySet[Lead]:
        """The list's leads, as filtered, searched and ordered on screen."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        leads = self.get_changelist_instance(request).get_queryset(request)
        return leads.select_related("amocrm_delivery__deal_stage").annotate(answer_seconds=AnswerSeconds())

    def export_csv(self, request: HttpRequest) -> StreamingHttpResponse:
        response = StreamingHttpResponse(csv_lines(rows(self.exported_leads(request))), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{_file_name("csv")}"'
        return response

    def export_xlsx(self, request: HttpRequest) -> FileResponse:
        output = tempfile.TemporaryFile()  # deleted when the response closes it
        write_xlsx(rows(self.exported_leads(request)), output)
        output.seek(0)
        return FileResponse(output, as_attachment=True, filename=_file_name("xlsx"))


def header() -> list[str]:
    return [
        _("Lead"), _("Received"), _("Name"), _("Phone"), _("Email"), _("Source"), _("Product"), _("UTM source"),
        _("UTM medium"), _("UTM campaign"), _("amoCRM"), _("Deal"), _("Deal link"), _("Stage"), _("Outcome"),
        _("Answered in (minutes)"),
    ]  # fmt: skip


def rows(leads: QuerySet[Lead]) -> Iterator[list]:
    """The header, then one row per lead, read from the database CHUNK leads at a time."""
    yield header()
    base_url = Settings.load().base_url
    for lead in leads.iterator(chunk_size=CHUNK):
        delivery, stage = _delivery_and_stage(lead)
        yield [
            lead.pk, timezone.localtime(lead.created_at).strftime("%Y-%m-%d %H:%M"), lead.name, lead.phone,
            lead.email, lead.source, lead.product_id, lead.utm_source, lead.utm_medium, lead.utm_campaign,
            str(delivery.get_state_display() if delivery else DeliveryState.PENDING.label),
            (delivery.amocrm_lead_id if delivery else None) or "", delivery.deal_url(base_url) if delivery else "",
            stage.label if stage else "", str(stage.outcome.label) if stage and not stage.deleted_at else "",
            round(lead.answer_seconds / 60, 1) if lead.answer_seconds is not None else "",
        ]  # fmt: skip


def csv_lines(table: Iterator[list]) -> Iterator[str]:
    """CSV text line by line; a byte-order mark first, so that Excel reads it as UTF-8."""
    writer = csv.writer(_Line())
    yield "\ufeff"
    for row in table:
        yield writer.writerow(row)


def write_xlsx(table: Iterator[list], output) -> None:
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet(_("Leads"))
    bold = workbook.add_format({"bold": True})
    for number, row in enumerate(table):
        sheet.write_row(number, 0, row, bold if number == 0 else None)
    workbook.close()


class _Line:
    """A file for csv.writer whose write() hands the line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def _delivery_and_stage(lead: Lead) -> tuple[Delivery | None, DealStage | None]:
    try:
        delivery = lead.amocrm_delivery
    except Delivery.DoesNotExist:
        return None, None
    try:
        return delivery, delivery.deal_stage
    except DealStage.DoesNotExist:
        return delivery, None


def _file_name(extension: str) -> str:
    return f"leads-{timezone.localtime():%Y-%m-%d-%H%M}.{extension}"
