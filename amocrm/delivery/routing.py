"""Where each lead goes and who is told to call: decided once, before its deal is created, and recorded.

The decision is the route: pipeline and stage, tags, the responsible manager and the follow-up task. `match` says
which route a lead would take (the lead page's preview asks it too); `assign` records it on each delivery of a
batch, so a retry sends exactly what was decided. The first active routing rule a lead meets decides; a rule that
names a pipeline, stage or user amoCRM no longer has is passed over (the lead takes the next rules, the default at
the latest), the delivery's note says why and the rule's row records it once, for the alert. Never a lost lead.
"""

from dataclasses import dataclass, replace

from django.utils import timezone
from django.utils.translation import gettext as _

from amocrm.api import catalog
from amocrm.api.catalog import AccountCatalog
from amocrm.models import Delivery, FollowUpChoice, RotationPool, RoutingRule, Settings
from amocrm.models.manager_work import CALL_TASK_TYPE_ID
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
    rotation_pool_id: int | None = None  # the responsible user is the pool's next in turn, taken in assign


@dataclass(frozen=True)
class Decision:
    route: Route
    passed_over: list[tuple[RoutingRule, str]]  # rules the lead matched but could not take, and why
    used: RoutingRule | None


def match(conn: Settings, lead: Lead) -> Route:
    """The route this lead takes: the first active rule it matches that amoCRM can still honour, else the default."""
    return decide(conn, lead, active_rules(), _catalog_or_none(conn)).route


def active_rules() -> list[RoutingRule]:
    return list(
        RoutingRule.objects.filter(active=True)
        .select_related("rotation_pool")
        .prefetch_related("rotation_pool__members")
    )


def decide(conn: Settings, lead: Lead, rules: list[RoutingRule], account: AccountCatalog | None) -> Decision:
    """`account` None (amoCRM unreachable): rules are taken as they are rather than failing the lead."""
    default, passed_over = default_route(conn, account), []
    for rule in (rule for rule in rules if rule.matches(lead)):
        problem = unavailable(rule, account)
        if not problem:
            return Decision(_with_note(rule_route(rule, default), passed_over), passed_over, rule)
        passed_over.append((rule, problem))
    return Decision(_with_note(default, passed_over), passed_over, None)


def default_route(conn: Settings, account: AccountCatalog | None = None) -> Route:
    follow_up = None
    if conn.follow_up_enabled:
        follow_up = FollowUp(conn.follow_up_task_type_id, conn.follow_up_text, conn.follow_up_minutes)
    tags = tuple(conn.tag_names())
    user_id, note = conn.responsible_user_id, ""
    if user_id and account is not None and (gone := account.user_unavailable(user_id)):
        # No rule below the default: amoCRM gives the deal to the integration's user rather than to nobody.
        user_id, note = None, _("Default responsible user skipped: %(why)s.") % {"why": gone}
    return Route(conn.pipeline_id, conn.status_id, user_id, tags, follow_up, note=note)


def rule_route(rule: RoutingRule, default: Route) -> Route:
    """The rule's targets; what it leaves blank stays the default's."""
    pipeline_id, status_id = default.pipeline_id, default.status_id
    if rule.status_id or rule.pipeline_id:
        pipeline_id, status_id = rule.pipeline_id, rule.status_id
    user_id = rule.responsible_user_id or (None if rule.rotation_pool_id else default.responsible_user_id)
    tags = tuple(rule.tag_names()) or default.tags
    return Route(
        pipeline_id, status_id, user_id, tags, _rule_follow_up(rule, default), rule.name, "", rule.rotation_pool_id
    )


def _rule_follow_up(rule: RoutingRule, default: Route) -> FollowUp | None:
    if rule.follow_up == FollowUpChoice.NONE:
        return None
    if rule.follow_up == FollowUpChoice.DEFAULT:
        return default.follow_up
    fallback = default.follow_up or FollowUp(CALL_TASK_TYPE_ID, "", 15)
    return FollowUp(
        rule.follow_up_task_type_id or fallback.task_type_id,
        rule.follow_up_text or fallback.text_template,
        fallback.minutes if rule.follow_up_minutes is None else rule.follow_up_minutes,
    )


def unavailable(rule: RoutingRule, account: AccountCatalog | None) -> str:
    """Why amoCRM cannot take this rule's leads as it says ("" if it can, or if amoCRM cannot be asked)."""
    if rule.rotation_pool_id and not rule.rotation_pool.weighted_order(available_users(account)):
        return _("no manager of pool %(pool)s is active in amoCRM") % {"pool": rule.rotation_pool.name}
    if account is None:
        return ""
    if rule.pipeline_id and account.pipeline(rule.pipeline_id) is None:
        return _("amoCRM no longer has pipeline #%(id)s") % {"id": rule.pipeline_id}
    if rule.status_id and not account.has_stage(rule.pipeline_id, rule.status_id):
        return _("amoCRM no longer has stage #%(id)s") % {"id": rule.status_id}
    return account.user_unavailable(rule.responsible_user_id) if rule.responsible_user_id else ""


def available_users(account: AccountCatalog | None) -> set[int] | None:
    """Users who may be given leads; None when amoCRM's users are unknown (everyone is taken on trust)."""
    if account is None or account.users is None:
        return None
    return {user.id for user in account.users if user.is_active}


def _with_note(route: Route, passed_over: list[tuple[RoutingRule, str]]) -> Route:
    notes = [_("Rule %(rule)s not used: %(why)s.") % {"rule": rule.name, "why": why} for rule, why in passed_over]
    return replace(route, note=" ".join([*notes, route.note]).strip()) if notes else route


def assign(conn: Settings, deliveries: list[Delivery], owners: dict[int, int] | None = None) -> None:
    """Record the route of each delivery not routed yet; `owners` (delivery id → user id) keep their manager."""
    owners = owners or {}
    unrouted = [d for d in deliveries if not d.is_routed]
    if not unrouted:
        return
    rules, account = active_rules(), _catalog_or_none(conn)
    for delivery in unrouted:
        decision = decide(conn, delivery.lead, rules, account)
        _remember(decision)
        route = decision.route
        owner = owners.get(delivery.id)
        if owner is None and route.rotation_pool_id:  # a repeat request keeps its manager: no turn is taken
            owner = next_in_turn(decision.used.rotation_pool, account)
        _record(conn, delivery, route, owner or route.responsible_user_id)
    Delivery.save_all(unrouted, *Delivery.ROUTE_FIELDS)


def next_in_turn(pool: RotationPool, account: AccountCatalog | None) -> int | None:
    order = pool.weighted_order(available_users(account))
    return order[pool.take_turn() % len(order)] if order else None


def _remember(decision: Decision) -> None:
    """The rules' rows say which are passed over and why (the alert reads them); changed only when that changes."""
    for rule, why in decision.passed_over:
        rule.mark_broken(why)
    if decision.used is not None:
        decision.used.mark_working()


def _catalog_or_none(conn: Settings) -> AccountCatalog | None:
    return catalog.load_or_none(conn) if conn.is_connected else None


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
