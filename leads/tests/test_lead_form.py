from leads.forms import LeadForm
from leads.models import IntakeSettings


def test_every_form_uses_the_class_fields_instead_of_a_copy():
    first, second = LeadForm(intake=IntakeSettings()), LeadForm(intake=IntakeSettings())

    assert first.fields["phone"] is second.fields["phone"]


def test_a_form_with_errors_leaves_the_next_one_clean():
    LeadForm(data={"phone": "x" * 65}, intake=IntakeSettings()).is_valid()

    form = LeadForm(data={"name": "Bobur", "phone": "90 123 45 67"}, intake=IntakeSettings())

    assert form.is_valid(), form.errors
