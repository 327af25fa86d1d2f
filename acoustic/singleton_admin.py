"""The admin side of a one-row settings table (amoCRM, Telegram): one page, secrets never shown, buttons.

The row also holds values that other processes write (tokens, last error, last success), so the page saves only
the fields it edits, and a secret only when staff typed a new one.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.views.decorators.http import require_POST


def secret_input(model, name: str) -> forms.CharField:
    # render_value=False: the stored secret never goes back to the browser, not even masked.
    label = capfirst(model._meta.get_field(name).verbose_name)
    return forms.CharField(label=label, required=False, widget=forms.PasswordInput(render_value=False))


class SingletonSettingsForm(forms.ModelForm):
    """Blank secret inputs keep the stored secret; `save_edited` writes only what the page edits."""

    edited_fields: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            if getattr(self.instance, name):
                self.fields[name].help_text = gettext("Set. Leave blank to keep it.")

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in self.secret_fields:
            if not cleaned.get(name) and name not in self.errors:
                cleaned[name] = getattr(self.instance, name)
        return cleaned

    def typed(self, name: str) -> bool:
        """True if staff typed a new value into this secret field (blank means keep the stored one)."""
        return bool(self.data.get(self.add_prefix(name), "").strip())

    def fields_to_save(self) -> list[str]:
        names = [name for name in self.edited_fields if name not in self.secret_fields or self.typed(name)]
        return [*dict.fromkeys(names), "updated_at"]

    def save_edited(self, row) -> None:
        row.save(update_fields=self.fields_to_save())


class SingletonAdmin(admin.ModelAdmin):
    """Opened straight on its change page; never added twice, never deleted; POST buttons on the page."""

    def button_urls(self) -> list[URLPattern]:
        """The page's buttons, each a POST view (see `button`); listed before the default URLs."""
        return []

    def get_urls(self) -> list:
        # Ours first: the default "<object_id>/" pattern would swallow "test/".
        return [*self.button_urls(), *super().get_urls()]

    def button(self, route: str, view: Callable[[HttpRequest], None], name: str) -> URLPattern:
        """A POST-only button that needs the change permission and comes back to the page."""

        def run(request: HttpRequest) -> HttpResponse:
            if not self.has_change_permission(request):
                raise PermissionDenied
            view(request)
            return self.redirect_to_page()

        return path(route, self.admin_site.admin_view(require_POST(run)), name=name)

    def redirect_to_page(self) -> HttpResponseRedirect:
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", self.model.load().pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not self.model.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponseRedirect:
        return self.redirect_to_page()

    def save_model(self, request: HttpRequest, obj, form: SingletonSettingsForm, change: bool) -> None:
        form.save_edited(obj)  # never a full save: other processes write to this row too
