"""What the two-way sync knows about each lead's deal, as database conditions and expressions on leads.

The lead list's filter, the dashboard, the export and the unanswered-lead alert all ask the same questions (won?
lost? still in its first stage? answered how fast?), so each is written once here and evaluated by the database.

"Unanswered" means: the deal exists in amoCRM and nobody has moved it yet, i.e. amoCRM has reported no stage change
(`DealStage.first_changed_at` is empty; there may be no `DealStage` row at all), and it is neither closed nor
deleted. The answer time is the time from the form to the deal's first stage change.
"""

from django.db.models import F, FloatField, Func, Q

from amocrm.models import CLOSED_STATUS_IDS, LOST_STATUS_ID, WON_STATUS_ID, DeliveryState, Outcome

_STAGE = "amocrm_delivery__deal_stage__"
_NOT_DELETED = Q(**{f"{_STAGE}deleted_at__isnull": True})
IN_AMOCRM = Q(amocrm_delivery__amocrm_lead_id__isnull=False)
WON = Q(**{f"{_STAGE}status_id": WON_STATUS_ID}) & _NOT_DELETED
LOST = Q(**{f"{_STAGE}status_id": LOST_STATUS_ID}) & _NOT_DELETED
_CLOSED = Q(**{f"{_STAGE}status_id__in": CLOSED_STATUS_IDS}) | ~_NOT_DELETED
IN_PROGRESS = IN_AMOCRM & ~_CLOSED
NOT_IN_AMOCRM = Q(amocrm_delivery__isnull=True) | Q(amocrm_delivery__amocrm_lead_id__isnull=True)
ANSWERED = Q(**{f"{_STAGE}first_changed_at__isnull": False})
UNANSWERED = (
    IN_AMOCRM
    & Q(amocrm_delivery__state=DeliveryState.DELIVERED)
    & (Q(amocrm_delivery__deal_stage__isnull=True) | (Q(**{f"{_STAGE}first_changed_at__isnull": True}) & ~_CLOSED))
)
BY_OUTCOME = {Outcome.WON: WON, Outcome.LOST: LOST, Outcome.IN_PROGRESS: IN_PROGRESS}


class AnswerSeconds(Func):
    """Seconds from the form to the deal's first stage change; NULL while unanswered."""

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F(f"{_STAGE}first_changed_at"), F("created_at"))

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ")

    def as_sql(self, compiler, connection, **extra):
        # SQLite (and the default): day numbers, whose difference times 86400 is seconds.
        extra.setdefault("template", "((JULIANDAY(%(expressions)s)) * 86400.0)")
        extra.setdefault("arg_joiner", ") - JULIANDAY(")
        return super().as_sql(compiler, connection, **extra)
