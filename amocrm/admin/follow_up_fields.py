"""A lead's follow-up task and repeat request as its page shows them: due when, for whom, or why amoCRM refused it."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from amocrm.admin.deal_columns import delivery_of
from amocrm.models import Delivery, Settings
from leads.models import Lead


def follow_up_fields(delivery: Delivery | None) -> tuple[str, ...]:
    """The rows of the lead page's amoCRM group this delivery has something to say in."""
    if delivery is None:
        return ()
    shown = ("amocrm_follow_up",) if delivery.follow_up_due_at or delivery.task_error else ()
    return shown + (("amocrm_contact_update",) if delivery.contact_update_error else ())


def repeat_link(delivery: Delivery) -> str:
    """ "Repeat of deal N", linked to the open deal it joined."""
    url = delivery.deal_url(Settings.load().base_url)
    text = gettext("repeat of deal %(id)s") % {"id": delivery.repeat_of_deal_id}
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text)


class FollowUpFields:
    """Mixed into the lead page."""

    @admin.display(description=_("follow-up task"))
    def amocrm_follow_up(self, lead: Lead) -> str:
        delivery = delivery_of(lead)
        due = date_format(timezone.localtime(delivery.follow_up_due_at), "SHORT_DATETIME_FORMAT")
        if delivery.task_error:
            return gettext("Not created: amoCRM refused it (%(error)s)") % {"error": delivery.task_error}
        if delivery.task_id is None:
            return gettext("Not created yet; due %(due)s") % {"due": due}
        return gettext("Created; due %(due)s: %(text)s") % {"due": due, "text": delivery.follow_up_text}

    @admin.display(description=_("contact update"))
    def amocrm_contact_update(self, lead: Lead) -> str:
        error = delivery_of(lead).contact_update_error
        return gettext("amoCRM refused the new phone or email (%(error)s)") % {"error": error}
