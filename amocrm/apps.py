from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AmocrmConfig(AppConfig):
    name = "amocrm"
    verbose_name = _("amoCRM")

    def ready(self) -> None:
        from amocrm.tasks import create_delivery
        from leads.signals import lead_stored

        lead_stored.connect(create_delivery, dispatch_uid="amocrm.create_delivery")
