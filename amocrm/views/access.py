"""Who may use the staff views: active staff with the right to change the amoCRM settings."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _


def is_settings_staff(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and user.is_staff and user.has_perm("amocrm.change_settings")


def staff_only(view: Callable) -> Callable:
    """Pages: anonymous visitors go to the admin login, logged-in non-staff get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not is_settings_staff(request):
            return HttpResponse(_("Only staff who manage the amoCRM settings may do this."), status=403)
        return view(request, *args, **kwargs)

    return wrapped


def staff_only_json(view: Callable) -> Callable:
    """API endpoints: anyone but staff gets a JSON 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_settings_staff(request):
            return JsonResponse({"ok": False, "error": "Staff only: log in to the admin first."}, status=403)
        return view(request, *args, **kwargs)

    return wrapped
