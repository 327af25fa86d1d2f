"""The admin's home page: what the ads bring (by source and campaign), what became of it, how fast it was answered,
and who is waiting for an answer right now. Figures come from dashboard_figures.py, charts from dashboard_charts.py.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.admin import dashboard_charts as charts
from amocrm.admin import dashboard_figures as figures
from amocrm.models import Settings

DEFAULT_DAYS = 30
LONGEST_PERIOD_DAYS = 366


class DashboardFilter(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ChoiceField(label=_("Source"), required=False)

    def __init__(self, *args, sources: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("All sources")), *((name, name) for name in sources)]

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            raise forms.ValidationError(gettext("The start date is after the end date."))
        if first and last and (last - first).days >= LONGEST_PERIOD_DAYS:
            raise forms.ValidationError(gettext("Choose at most a year."))
        return cleaned

    def period(self, today: date) -> figures.Period:
        """The chosen days; the last 30 days for anything not chosen (or not valid)."""
        data = self.cleaned_data if self.is_valid() else {}
        last = data.get("date_to") or today
        first = data.get("date_from") or last - timedelta(days=DEFAULT_DAYS - 1)
        return figures.Period(first, last)


def index(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin index with the dashboard above the list of sections."""
    today = timezone.localdate()
    choices = figures.sources()
    form = DashboardFilter(request.GET or None, sources=choices)
    period = form.period(today)
    source = form.cleaned_data.get("source", "") if form.is_bound and form.is_valid() else ""
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "subtitle": None,
        "app_list": admin.site.get_app_list(request),
        "form": form,
        **dashboard_context(period, today, source, choices),
        **(extra_context or {}),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/dashboard.html", context)


def dashboard_context(period: figures.Period, today: date, source: str, sources: list[str]) -> dict:
    per_day = figures.leads_per_day(period, source)
    groups = figures.breakdowns(period, source)
    by_source, by_campaign = groups["source"], groups["utm_campaign"]
    colours = charts.source_colours(list(dict.fromkeys([row.name for row in by_source] + sources)))
    unanswered, unanswered_count = figures.unanswered(period, source)
    base_url = Settings.load().base_url
    return {
        "period": period,
        "totals": figures.recent_totals(today, source),
        "per_day_chart": charts.leads_per_day_chart(per_day, colours),
        "per_day_legend": [charts.Legend(row.name, colours[row.name]) for row in by_source],
        "by_source": by_source,
        "by_source_chart": charts.outcomes_chart(by_source),
        "by_campaign": by_campaign,
        "by_campaign_chart": charts.outcomes_chart(by_campaign),
        "outcome_legend": charts.outcome_legend(),
        "unanswered": [(lead, lead.amocrm_delivery.deal_url(base_url)) for lead in unanswered],
        "unanswered_count": unanswered_count,
        "now": timezone.now(),
    }
