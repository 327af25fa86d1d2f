"""django-axes under a name staff can read: its app config names the section "Axes", in no language."""

from axes.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AppConfig):
    verbose_name = _("Login protection")
