"""Text a visitor typed is shown escaped in the lead admin: it is data there, never markup."""

import pytest

from leads.models import Lead

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def hostile_lead() -> Lead:
    return Lead.objects.create(
        name=f"{SCRIPT} Tom & Jerry", phone="+998901234567", phone_raw="+998901234567", message=f"Salom {SCRIPT} & bye"
    )


def test_it_escapes_the_name_in_the_changelist(admin_client, hostile_lead):
    page = admin_client.get("/admin/leads/lead/").content.decode()

    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Tom &amp; Jerry" in page


def test_it_escapes_the_name_and_message_on_the_change_page(admin_client, hostile_lead):
    page = admin_client.get(f"/admin/leads/lead/{hostile_lead.id}/change/").content.decode()

    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Tom &amp; Jerry" in page
    assert "Salom &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; bye" in page
