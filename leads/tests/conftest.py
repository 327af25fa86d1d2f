import pytest

from leads.models import IntakeSettings, forget_cached_settings
from leads.signals import lead_stored


@pytest.fixture
def lead_payload() -> dict[str, str]:
    return {
        "name": "Dilnoza Karimova",
        "phone": "+998 90 123 45 67",
        "email": "dilnoza@example.uz",
        "source": "product_page",
        "message": "Quloq apparati haqida maslahat kerak",
        "product_id": "phonak-audeo-l90",
        "page_url": "https://acoustic.uz/products/phonak-audeo-l90",
        "referrer": "https://www.google.com/",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "autumn",
        "utm_content": "banner-1",
        "utm_term": "hearing aid",
    }


@pytest.fixture
def received() -> list[int]:
    """The leads lead_stored was sent for, in order."""
    seen = []
    receiver = lambda sender, lead, **kwargs: seen.append(lead.id)  # noqa: E731
    lead_stored.connect(receiver)
    yield seen
    lead_stored.disconnect(receiver)


@pytest.fixture
def intake_settings(db) -> IntakeSettings:
    """The lead form settings, read afresh by the intake in this test and forgotten after it."""
    forget_cached_settings()
    yield IntakeSettings.load()
    forget_cached_settings()  # a rolled-back row must not outlive its test in this process's cache
