import pytest

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
