from leads.phones import example_number, normalize_phone


def test_its_example_is_a_valid_number_of_the_configured_region(settings):
    settings.LEAD_PHONE_REGION = "UZ"

    assert normalize_phone(example_number()).startswith("+998")


def test_an_unknown_region_has_no_example(settings):
    settings.LEAD_PHONE_REGION = "ZZ"

    assert example_number() == ""
