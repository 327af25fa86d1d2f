""" "Where would this lead go?" on a lead's page: what was recorded once routed, else what the rules would decide."""

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from amocrm.admin.catalog_choices import user_label
from amocrm.admin.deal_columns import delivery_of
from amocrm.api import catalog
from amocrm.api.catalog import AccountCatalog
from amocrm.delivery import routing
from amocrm.models import Delivery, RotationPool, Settings
from leads.models import Lead


def route_html(lead: Lead) -> str:
    conn = Settings.load()
    account = catalog.load_or_none(conn) if conn.is_connected else None
    delivery = delivery_of(lead)
    if delivery is not None and delivery.is_routed:
        rows = _recorded(delivery, account)
    else:
        rows = _preview(conn, lead, account)
    return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))


def _recorded(delivery: Delivery, account: AccountCatalog | None) -> list[tuple[str, str]]:
    rows = [
        (gettext("Rule"), delivery.route_rule or gettext("the default route")),
        (gettext("Pipeline and stage"), _stage(account, delivery.pipeline_id, delivery.status_id)),
        (gettext("Manager"), _manager(account, delivery.responsible_user_id)),
    ]
    return rows + ([(gettext("Note"), delivery.route_note)] if delivery.route_note else [])


def _preview(conn: Settings, lead: Lead, account: AccountCatalog | None) -> list[tuple[str, str]]:
    route = routing.decide(conn, lead, routing.active_rules(), account).route
    manager = _manager(account, route.responsible_user_id)
    if route.rotation_pool_id:
        pool = RotationPool.objects.get(pk=route.rotation_pool_id)
        manager = gettext("the next in pool %(pool)s (now %(user)s)") % {
            "pool": pool.name, "user": _manager(account, _next(pool, account)),
        }  # fmt: skip
    rows = [
        (gettext("Rule (not routed yet)"), route.rule_name or gettext("the default route")),
        (gettext("Pipeline and stage"), _stage(account, route.pipeline_id, route.status_id)),
        (gettext("Manager"), manager),
    ]
    return rows + ([(gettext("Note"), route.note)] if route.note else [])


def _next(pool: RotationPool, account: AccountCatalog | None) -> int | None:
    """Whose turn it is now, without taking it."""
    order = pool.weighted_order(routing.available_users(account))
    return order[pool.turn % len(order)] if order else None


def _stage(account: AccountCatalog | None, pipeline_id: int | None, status_id: int | None) -> str:
    if not pipeline_id and not status_id:
        return gettext("amoCRM's default")
    names = account.names(pipeline_id or 0, status_id or 0) if account else ("", "")
    return " / ".join(filter(None, names)) or f"#{pipeline_id or '—'} / #{status_id or '—'}"


def _manager(account: AccountCatalog | None, user_id: int | None) -> str:
    return user_label(account, user_id) if user_id else gettext("chosen by amoCRM")
