"""The amoCRM app's models, one module per family; importing them from here keeps every caller's path short."""

from amocrm.models.connection import REFRESH_TOKEN_LIFETIME, ConnectionState, Platform, Settings, new_webhook_secret
from amocrm.models.deal_stage import (
    CLOSED_STATUS_IDS,
    LOST_STATUS_ID,
    WON_STATUS_ID,
    DealStage,
    DealStageChange,
    Outcome,
    StageNews,
    StageSource,
    outcome_of,
)
from amocrm.models.delivery import Delivery, DeliveryState
from amocrm.models.field_mapping import ExtraFieldMapping
from amocrm.models.request_log import RequestLog
from amocrm.models.routing import FollowUpChoice, RotationMember, RotationPool, RoutingRule, TextMatch
from amocrm.models.webhook_event import WebhookEvent

__all__ = [
    "CLOSED_STATUS_IDS", "LOST_STATUS_ID", "REFRESH_TOKEN_LIFETIME", "WON_STATUS_ID", "ConnectionState", "DealStage",
    "DealStageChange", "Delivery", "DeliveryState", "ExtraFieldMapping", "FollowUpChoice", "Outcome", "Platform",
    "RequestLog", "RotationMember", "RotationPool", "RoutingRule", "Settings", "StageNews", "StageSource",
    "TextMatch", "WebhookEvent", "new_webhook_secret", "outcome_of",
]  # fmt: skip
