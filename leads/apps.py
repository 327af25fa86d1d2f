from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def warm_up(self) -> None:
        """Loads in gunicorn's master what the intake's first requests would (acoustic/warm_up.py)."""
        from django.template.loader import get_template

        from leads import forms, site_script

        forms.warm_up()
        site_script.current()
        get_template("leads/form.html")
