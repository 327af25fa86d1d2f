"""The text of a new lead's message: every field, escaped for Telegram's HTML, and the deal link."""

import re
from html.parser import HTMLParser

import pytest
from django.utils import translation

from leads.models import Lead
from notifications.lead_message import lead_text

pytestmark = pytest.mark.django_db


def _lead(**fields) -> Lead:
    return Lead.objects.create(**{"name": "Dilnoza", "phone": "+998901234567", "phone_raw": "x", **fields})


def test_it_lists_every_field_staff_need():
    lead = _lead(source="callback", product_id="p-42", message="Salom", page_url="https://acoustic.uz/p/42",
                 utm_source="google", utm_medium="cpc", utm_campaign="spring")  # fmt: skip

    text = lead_text(lead)

    assert text.splitlines() == [
        f"🔔 <b>New lead #{lead.pk}</b>",
        "<b>Name:</b> Dilnoza",
        "<b>Phone:</b> +998901234567",
        "<b>Form:</b> Call back request",
        "<b>Product:</b> p-42",
        "<b>Message:</b> Salom",
        "<b>Page:</b> https://acoustic.uz/p/42",
        "<b>UTM:</b> source=google, medium=cpc, campaign=spring",
    ]


def test_it_escapes_whatever_the_visitor_typed():
    lead = _lead(name="<b>Ali</b> & Co", message='1 < 2 > 0 "quoted"', utm_source="a&b")

    text = lead_text(lead)

    assert "<b>Name:</b> &lt;b&gt;Ali&lt;/b&gt; &amp; Co" in text
    assert '<b>Message:</b> 1 &lt; 2 &gt; 0 "quoted"' in text  # quotes need no escaping outside attributes
    assert "source=a&amp;b" in text


def test_it_cuts_a_very_long_message_to_fit_telegrams_limit():
    longest_allowed = _lead(message="x" * 5000, page_url="https://acoustic.uz/" + "p" * 1950)  # the form's limits

    text = lead_text(longest_allowed)

    assert len(text) < 4096
    assert "x" * 1999 + "…" in text


DEAL_URL = "https://acoustic.amocrm.ru/leads/detail/987654321"


class _Visible(HTMLParser):
    """What Telegram counts: the text after its HTML entities are parsed (tags gone, &amp; one character)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.open_tags = "", []

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_starttag(self, tag, attrs) -> None:
        self.open_tags.append(tag)

    def handle_endtag(self, tag) -> None:
        if self.open_tags and self.open_tags[-1] == tag:
            self.open_tags.pop()


def _parsed(text: str) -> _Visible:
    parsed = _Visible()
    parsed.feed(text)
    parsed.close()
    return parsed


def _telegram_length(text: str) -> int:
    return len(_parsed(text).text.encode("utf-16-le")) // 2  # Telegram counts UTF-16 code units


@pytest.fixture
def longest_lead() -> Lead:
    """Every field as long as the form allows, full of characters that escaping makes longer."""
    utm = {name: "&" * 255 for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")}
    return _lead(name="Ж&" * 100, email="a&" * 100 + "@example.uz", source="s" * 50, product_id="p&" * 50,
                 message="😀&<" * 1666, page_url="https://acoustic.uz/?" + "&a=1" * 494,
                 referrer="https://google.com/?" + "&q=1" * 495, **utm)  # fmt: skip


def test_the_longest_lead_the_form_allows_fits_one_telegram_message(longest_lead):
    text = lead_text(longest_lead, DEAL_URL)

    assert _telegram_length(text) <= 4096


def test_it_fits_even_counted_before_telegram_parses_its_html(longest_lead):
    text = lead_text(longest_lead, DEAL_URL)

    assert len(text.encode("utf-16-le")) // 2 <= 4096


def test_a_message_cut_to_fit_keeps_the_deal_link(longest_lead):
    text = lead_text(longest_lead, DEAL_URL)

    assert text.splitlines()[-1] == f'<b>amoCRM:</b> <a href="{DEAL_URL}">open the deal</a>'


def test_a_message_cut_to_fit_says_so_with_an_ellipsis(longest_lead):
    text = lead_text(longest_lead, DEAL_URL)

    assert text.splitlines()[-2].endswith("…")


def test_a_message_cut_to_fit_leaves_no_tag_open(longest_lead):
    text = lead_text(longest_lead, DEAL_URL)

    assert _parsed(text).open_tags == []


def test_a_message_cut_to_fit_never_splits_an_escaped_character(longest_lead):
    body = lead_text(longest_lead, DEAL_URL).rsplit("\n", 1)[0]

    assert re.search(r"&[a-z]*…", body) is None


def test_a_message_that_fits_is_not_cut():
    text = lead_text(_lead(message="Salom"), DEAL_URL)

    assert "…" not in text


def test_it_adds_the_link_to_the_deal():
    text = lead_text(_lead(), "https://acoustic.amocrm.ru/leads/detail/555")

    assert (
        text.splitlines()[-1]
        == '<b>amoCRM:</b> <a href="https://acoustic.amocrm.ru/leads/detail/555">open the deal</a>'
    )


def test_it_writes_in_the_sites_language_whatever_the_visitors(settings):
    lead = _lead()

    with translation.override("ru"):
        text = lead_text(lead)

    assert "<b>Phone:</b>" in text  # LANGUAGE_CODE is "en" in these tests


def test_it_lists_the_site_forms_other_fields_by_name():
    lead = _lead(extra={"branch": "Chilonzor", "preferred_time": "10:00-12:00"})

    lines = lead_text(lead).splitlines()

    assert lines[-2:] == ["<b>Branch:</b> Chilonzor", "<b>Preferred time:</b> 10:00-12:00"]


def test_it_escapes_their_names_and_values():
    text = lead_text(_lead(extra={"<i>a&b</i>": "<b>Chilonzor</b>"}))

    assert "<b>&lt;i&gt;a&amp;b&lt;/i&gt;:</b> &lt;b&gt;Chilonzor&lt;/b&gt;" in text


def test_it_fits_the_most_a_lead_can_carry_in_one_message():
    fullest = _lead(message="x" * 5000, page_url="p" * 2000, extra={f"field_{n}": "v" * 2000 for n in range(30)})

    text = lead_text(fullest, "https://acoustic.amocrm.ru/leads/detail/555")

    assert len(text) <= 4096
    assert "more fields, in the admin" in text.splitlines()[-2]
    assert text.splitlines()[-1].startswith("<b>amoCRM:</b>")
