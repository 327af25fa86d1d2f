from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Telegram notifications")

    def ready(self) -> None:
        from amocrm.signals import deal_created
        from leads.signals import lead_stored
        from notifications.receivers import queue_deal_link, queue_lead_message

        lead_stored.connect(queue_lead_message, dispatch_uid="notifications.queue_lead_message")
        deal_created.connect(queue_deal_link, dispatch_uid="notifications.queue_deal_link")
