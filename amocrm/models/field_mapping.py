"""Staff's mapping of a site form's extra field (Lead.extra) to a deal field in amoCRM."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from amocrm.models.connection import Settings


class ExtraFieldMapping(models.Model):
    """The value of extra field `key` goes into deal field `field_id` (when amoCRM still has a field that takes it)."""

    settings = models.ForeignKey(
        Settings, on_delete=models.CASCADE, related_name="extra_field_mappings", default=1, editable=False
    )
    key = models.CharField(
        _("form field"),
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^\S(.*\S)?$", _("No spaces at the start or end."))],
        help_text=_("The name the site's form sends, e.g. branch"),
    )
    field_id = models.PositiveBigIntegerField(_("deal field"))

    class Meta:
        verbose_name = _("extra field in a deal field")
        verbose_name_plural = _("extra fields in deal fields")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
