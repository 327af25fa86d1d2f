"""Where each lead goes and who is told to call: decided once, before its deal is created, and recorded.

The decision is the route: pipeline and stage, tags, the responsible manager and the follow-up task. `match` says
which route a lead would take (the lead page's preview asks it too); `assign` records it on each delivery of a
batch, so a retry sends exactly what was decided. Today every lead takes the default route, the settings page's.
"""

from dataclasses import dataclass

from django.utils import timezone

from amocrm.models import Delivery, Settings
from leads.models import Lead


@dataclass(frozen=True)
class FollowUp:
    task_type_id: int
    text_template: str
    minutes: int  # working minutes after the lead


@dataclass(frozen=True)
class Route:
    pipeline_id: int | None
    status_id: int | None
    responsible_user_id: int | None
    tags: tuple[str, ...]
    follow_up: FollowUp | None
    rule_name: str = ""
    note: str = ""  # why a rule that matched was not used


def match(conn: Settings, lead: Lead) -> Route:
    """The route this lead takes: the default, from the settings page."""
    return default_route(conn)


def default_route(conn: Settings) -> Route:
    follow_up = None
    if conn.follow_up_enabled:
        follow_up = FollowUp(conn.follow_up_task_type_id, conn.follow_up_text, conn.follow_up_minutes)
    tags = tuple(conn.tag_names())
    return Route(conn.pipeline_id, conn.status_id, conn.responsible_user_id, tags, follow_up)


def assign(conn: Settings, deliveries: list[Delivery], owners: dict[int, int] | None = None) -> None:
    """Record the route of each delivery not routed yet; `owners` (delivery id → user id) keep their manager."""
    owners = owners or {}
    unrouted = [d for d in deliveries if not d.is_routed]
    for delivery in unrouted:
        route = match(conn, delivery.lead)
        _record(conn, delivery, route, owners.get(delivery.id, route.responsible_user_id))
    Delivery.save_all(unrouted, *Delivery.ROUTE_FIELDS)


def _record(conn: Settings, delivery: Delivery, route: Route, responsible_user_id: int | None) -> None:
    lead = delivery.lead
    delivery.routed_at = timezone.now()
    delivery.pipeline_id, delivery.status_id = route.pipeline_id, route.status_id
    delivery.responsible_user_id = responsible_user_id
    delivery.tags = ",".join(dict.fromkeys([*route.tags, lead.source]))[:500]
    delivery.route_rule, delivery.route_note = route.rule_name, route.note
    if route.follow_up:
        delivery.follow_up_task_type_id = route.follow_up.task_type_id
        delivery.follow_up_text = follow_up_text(route.follow_up.text_template, lead)
        delivery.follow_up_due_at = conn.working_hours().add(lead.created_at, route.follow_up.minutes * 60)


def follow_up_text(template: str, lead: Lead) -> str:
    values = {"name": lead.name, "phone": lead.phone, "source": lead.source, "product_id": lead.product_id}
    try:
        return template.format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        # A template staff mistyped must not stop deliveries.
        return f"{lead.name}: {lead.phone}"
