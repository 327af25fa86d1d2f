"""What the two-way sync knows about each lead's deal, as database conditions and expressions on leads.

The lead list's filter, the dashboard, the export and the unanswered-lead alert all ask the same questions (won?
lost? still in its first stage? answered how fast?), so each is written once here and evaluated by the database.

"Unanswered" means: the deal exists in amoCRM and nobody has moved it yet, i.e. amoCRM has reported no stage change
(`DealStage.first_changed_at` is empty; there may be no `DealStage` row at all), and it is neither closed nor
deleted; a repeat request that joined an open deal is never "unanswered" (that deal's stage says nothing about
it). The answer time is the time from the form to the deal's first stage change.
"""

from django.db.models import Exists, F, FloatField, Func, OuterRef, Q

from amocrm.models import CLOSED_STATUS_IDS, LOST_STATUS_ID, WON_STATUS_ID, DealStage, DeliveryState, Outcome

_STAGE = "amocrm_delivery__deal_stage__"
_NOT_DELETED = Q(**{f"{_STAGE}deleted_at__isnull": True})
IN_AMOCRM = Q(amocrm_delivery__amocrm_lead_id__isnull=False)
WON = Q(**{f"{_STAGE}status_id": WON_STATUS_ID}) & _NOT_DELETED
LOST = Q(**{f"{_STAGE}status_id": LOST_STATUS_ID}) & _NOT_DELETED
_CLOSED = Q(**{f"{_STAGE}status_id__in": CLOSED_STATUS_IDS}) | ~_NOT_DELETED
IN_PROGRESS = IN_AMOCRM & ~_CLOSED
NOT_IN_AMOCRM = Q(amocrm_delivery__isnull=True) | Q(amocrm_delivery__amocrm_lead_id__isnull=True)
ANSWERED = Q(**{f"{_STAGE}first_changed_at__isnull": False})
# Nobody moved it: no stage row says it was answered, closed or deleted. Written as NOT EXISTS, which the database
# estimates well, rather than tests on the outer join's NULLs, which it did not (and then scanned every delivery).
_MOVED_OR_CLOSED = Q(first_changed_at__isnull=False) | Q(deleted_at__isnull=False) | Q(status_id__in=CLOSED_STATUS_IDS)
UNANSWERED = (
    IN_AMOCRM
    & Q(amocrm_delivery__state=DeliveryState.DELIVERED)
    # A repeat request joins a deal a manager may have moved long ago: its stage cannot say whether anyone called
    # back; the follow-up task made for it is what tells the manager.
    & Q(amocrm_delivery__repeat_of_deal_id__isnull=True)
    & ~Exists(DealStage.objects.filter(_MOVED_OR_CLOSED, delivery=OuterRef("amocrm_delivery")))
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
