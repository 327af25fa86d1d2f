from leads.forms import LeadForm
from leads.models import IntakeSettings


def test_every_form_uses_the_class_fields_instead_of_a_copy():
    first, second = LeadForm(intake=IntakeSettings()), LeadForm(intake=IntakeSettings())

    assert first.fields["phone"] is second.fields["phone"]


def test_a_form_with_errors_leaves_the_next_one_clean():
    LeadForm(data={"phone": "x" * 65}, intake=IntakeSettings()).is_valid()

    form = LeadForm(data={"name": "Bobur", "phone": "90 123 45 67"}, intake=IntakeSettings())

    assert form.is_valid(), form.errors


def test_it_cleans_an_attribution_field_left_out_to_blank():
    form = LeadForm(data={"name": "Bobur", "phone": "90 123 45 67", "utm_source": "google"}, intake=IntakeSettings())

    form.is_valid()

    assert form.cleaned_data["gclid"] == ""


def test_it_still_checks_the_attribution_fields_sent():
    form = LeadForm(data={"name": "Bobur", "phone": "90 123 45 67", "gclid": "x" * 256}, intake=IntakeSettings())

    assert "gclid" in form.errors
