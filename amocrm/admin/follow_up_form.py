"""The settings page's "Follow-up task and working hours" section: the task, its text, when it falls due."""

from string import Formatter

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.admin.catalog_choices import task_type_choices
from amocrm.api.catalog import AccountCatalog

FOLLOW_UP_FIELDS = (
    "follow_up_enabled", "follow_up_task_type_id", "follow_up_text", "follow_up_minutes",
    "working_days", "opens_at", "closes_at", "repeat_joins_open_deal",
)  # fmt: skip
PLACEHOLDERS = ("name", "phone", "source", "product_id")
WEEKDAYS = [
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
    (5, _("Saturday")), (6, _("Sunday")),
]  # fmt: skip
MAX_MINUTES = 7 * 24 * 60


class FollowUpForm(forms.ModelForm):
    """Mixed into the settings form: days as checkboxes, the task type from amoCRM, the template checked."""

    working_days = forms.TypedMultipleChoiceField(
        label=capfirst(_("working days")),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    catalog: AccountCatalog | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["working_days"] = [int(d) for d in self.instance.working_days.split(",") if d.strip().isdigit()]
        # The whole default template shows (the admin's own text input is 20em wide).
        self.fields["follow_up_text"].widget = forms.TextInput(attrs={"size": 80})
        field = self.fields["follow_up_task_type_id"]
        current = self.instance.follow_up_task_type_id
        choices = task_type_choices(self.catalog)
        if current not in {value for value, _label in choices}:
            choices = [*choices, (current, gettext("#%(id)s (not found in amoCRM)") % {"id": current})]
        self.fields["follow_up_task_type_id"] = forms.TypedChoiceField(
            label=field.label, choices=choices, coerce=int, help_text=field.help_text
        )

    def clean_working_days(self) -> str:
        return ",".join(str(day) for day in sorted(set(self.cleaned_data["working_days"])))

    def clean_follow_up_text(self) -> str:
        text = self.cleaned_data["follow_up_text"]
        try:
            names = {name for _literal, name, _spec, _conv in Formatter().parse(text) if name is not None}
        except ValueError:
            raise forms.ValidationError(gettext("Unbalanced braces: write placeholders as {name}.")) from None
        unknown = sorted(name for name in names if name not in PLACEHOLDERS)
        if unknown:
            allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            raise forms.ValidationError(
                gettext("Unknown placeholder %(names)s. Use %(allowed)s.")
                % {"names": ", ".join(f"{{{name}}}" for name in unknown), "allowed": allowed}
            )
        return text

    def clean_follow_up_minutes(self) -> int:
        minutes = self.cleaned_data["follow_up_minutes"]
        if minutes > MAX_MINUTES:
            raise forms.ValidationError(gettext("At most %(max)d minutes (a week).") % {"max": MAX_MINUTES})
        return minutes

    def clean(self) -> dict:
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and opens >= closes:
            self.add_error("closes_at", gettext("The shop must close after it opens."))
        if cleaned.get("follow_up_enabled") and cleaned.get("working_days") == "":
            self.add_error("working_days", gettext("Choose at least one working day."))
        return cleaned
