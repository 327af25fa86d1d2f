"""GET /metrics (Prometheus, bearer token) and GET /healthz (JSON for load balancers and uptime checks)."""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring import health, metrics


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """404 while METRICS_TOKEN is unset; 401 without `Authorization: Bearer <METRICS_TOKEN>`."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not _has_bearer(request, token):
        return HttpResponse(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis and the broker answer, else 503; each part's state in the body."""
    found = health.checks()
    ok = health.is_healthy(found)
    return JsonResponse({"ok": ok, "checks": found}, status=200 if ok else 503)


def _has_bearer(request: HttpRequest, token: str) -> bool:
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
