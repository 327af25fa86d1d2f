"""Routing rules as staff edit them: ordered, conditions on the lead, and where its deal goes, chosen from amoCRM."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.admin.catalog_choices import (
    choice_field,
    page_catalog,
    stage_choices,
    task_type_choices,
    user_choices,
    user_help,
    user_label,
)
from amocrm.api.catalog import AccountCatalog
from amocrm.models import RoutingRule, TextMatch

CONDITIONS = ("source", "product_id", "utm_source", "utm_campaign", "page_url_prefix")
EDITED_FIELDS = (
    "name", "active", "position", *CONDITIONS, "utm_source_match", "utm_campaign_match",
    "pipeline_id", "status_id", "tags", "responsible_user_id", "rotation_pool",
    "follow_up", "follow_up_task_type_id", "follow_up_text", "follow_up_minutes",
)  # fmt: skip


class RoutingRuleForm(forms.ModelForm):
    catalog: AccountCatalog | None = None  # set by the admin when amoCRM answered

    class Meta:
        model = RoutingRule
        fields = EDITED_FIELDS
        widgets = {"follow_up_text": forms.TextInput(attrs={"size": 80})}  # "Call {name} back: {phone}" and more

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        task_type, current = self.fields["follow_up_task_type_id"], self.instance.follow_up_task_type_id
        self.fields["follow_up_task_type_id"] = choice_field(task_type, task_type_choices(self.catalog), current)
        if self.catalog is not None:
            self._offer_catalog(self.catalog)

    def _offer_catalog(self, account: AccountCatalog) -> None:
        status = self.fields["status_id"]
        label = _("Pipeline and stage")
        self.fields["status_id"] = choice_field(status, stage_choices(account), self.instance.status_id, label)
        self.fields["pipeline_id"].widget = forms.HiddenInput()  # follows from the stage chosen (see clean)
        user = self.fields["responsible_user_id"]
        if account.users is not None:
            choices = user_choices(account)
            self.fields["responsible_user_id"] = user = choice_field(user, choices, self.instance.responsible_user_id)
        user.help_text = user_help(account, self.instance.responsible_user_id, user.help_text)

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.catalog is not None:  # the pipeline follows the stage; no stage chosen is the default's
            status_id = cleaned.get("status_id")
            cleaned["pipeline_id"] = (
                (self.catalog.pipeline_of(status_id) or cleaned.get("pipeline_id")) if status_id else None
            )
        return cleaned


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ("position", "name", "active", "conditions", "state")
    list_display_links = ("name",)
    list_editable = ("position", "active")
    list_select_related = ("rotation_pool",)
    readonly_fields = ("broken_reason",)
    fieldsets = (
        (None, {"fields": ("name", "active", "position")}),
        (
            _("Conditions"),
            {
                "description": _("Every condition filled in must hold; a rule without conditions takes every lead."),
                "fields": (
                    "source",
                    "product_id",
                    ("utm_source", "utm_source_match"),
                    ("utm_campaign", "utm_campaign_match"),
                    "page_url_prefix",
                ),  # fmt: skip
            },
        ),
        (
            _("Where the lead goes"),
            {
                "description": _("Left blank: as the default route on the amoCRM settings page."),
                "fields": ("pipeline_id", "status_id", "tags", "responsible_user_id", "rotation_pool"),
            },
        ),
        (
            _("Follow-up task"),
            {"fields": ("follow_up", "follow_up_task_type_id", "follow_up_text", "follow_up_minutes")},
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: RoutingRule | None = None) -> list:
        """Why the rule is not used, only while it is not."""
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.broken_reason:
            title, first = fieldsets[0]
            fieldsets[0] = (title, {**first, "fields": (*first["fields"], "broken_reason")})
        return fieldsets

    def get_list_display(self, request: HttpRequest) -> list:
        """The targets by name, from one catalog read per page (amoCRM's names, never bare ids)."""
        account = page_catalog(request)
        columns = [_destination_column(account), _responsible_column(account)]
        return [*self.list_display[:-1], *columns, self.list_display[-1]]

    def get_form(self, request: HttpRequest, obj: RoutingRule | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        account = page_catalog(request)
        return type(form.__name__, (form,), {"catalog": account}) if account else form

    def save_model(self, request: HttpRequest, obj: RoutingRule, form: forms.ModelForm, change: bool) -> None:
        obj.broken_reason, obj.broken_since = "", None  # staff looked at it: the next lead checks it afresh
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        if request.method == "GET":
            settings_url = reverse("admin:amocrm_settings_changelist")
            after_last = gettext("A lead no active rule takes goes by the default route of the amoCRM settings page.")
            link = gettext("Open the amoCRM settings")
            messages.info(request, format_html('{} <a href="{}">{}</a>', after_last, settings_url, link))
            for rule in RoutingRule.objects.filter(active=True).exclude(broken_reason=""):
                warning = gettext("Rule %(rule)s is not used: %(why)s.") % {"rule": rule, "why": rule.broken_reason}
                messages.warning(request, warning)
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("conditions"))
    def conditions(self, rule: RoutingRule) -> str:
        return "; ".join(_condition(rule, name) for name in CONDITIONS if getattr(rule, name)) or "*"

    @admin.display(description=_("state"))
    def state(self, rule: RoutingRule) -> str:
        return rule.broken_reason or (gettext("in use") if rule.active else gettext("off"))


def _condition(rule: RoutingRule, name: str) -> str:
    """ "UTM campaign: spring", and "(contains)" after it when the rule matches part of the value."""
    text = f"{RoutingRule._meta.get_field(name).verbose_name}: {getattr(rule, name)}"
    if getattr(rule, f"{name}_match", TextMatch.EXACT) == TextMatch.CONTAINS:
        text += f" ({TextMatch.CONTAINS.label})"
    return text


def _destination_column(account: AccountCatalog | None):
    @admin.display(description=_("pipeline and stage"))
    def destination(rule: RoutingRule) -> str:
        if not rule.status_id and not rule.pipeline_id:
            return gettext("as the default")
        names = account.names(rule.pipeline_id or 0, rule.status_id or 0) if account else ("", "")
        return " / ".join(filter(None, names)) or f"#{rule.pipeline_id or '—'} / #{rule.status_id or '—'}"

    return destination


def _responsible_column(account: AccountCatalog | None):
    @admin.display(description=_("responsible"))
    def responsible(rule: RoutingRule) -> str:
        if rule.rotation_pool_id:
            return gettext("rotation: %(pool)s") % {"pool": rule.rotation_pool}
        if rule.responsible_user_id:
            return user_label(account, rule.responsible_user_id)
        return gettext("as the default")

    return responsible
