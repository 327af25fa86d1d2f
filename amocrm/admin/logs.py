"""Read-only lists of what passed between the site and amoCRM: every request, every webhook event."""

from django.contrib import admin
from django.http import HttpRequest

from amocrm.models import RequestLog, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RequestLog)
class RequestLogAdmin(ReadOnlyAdmin):
    """Every request to amoCRM of the last 14 days: what went where, what came back, how long it took."""

    list_display = ("created_at", "method", "endpoint", "status", "duration_ms", "error_kind", "error")
    list_filter = ("error_kind", "status", "endpoint")
    readonly_fields = list_display


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """What amoCRM's webhooks said about the site's deals in the last 30 days."""

    list_display = ("received_at", "action", "lead_id", "applied_at", "failed_at", "error")
    list_filter = ("action",)
    search_fields = ("=lead_id",)
    readonly_fields = ("key", "action", "lead_id", "payload", "received_at", "applied_at", "failed_at", "error")
