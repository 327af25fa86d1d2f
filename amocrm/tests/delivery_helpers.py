"""The sandbox set up as the delivery tests' amoCRM, leads to deliver, and ways to run the engine to the end."""

from django.utils import timezone

from amocrm.api import client, ratelimit
from amocrm.delivery import batch
from amocrm.models import Delivery, DeliveryState, Settings
from leads.models import Lead

UTM_SOURCE, UTM_REFERRER, SOURCE_FIELD, PRODUCT_FIELD, MARKER_FIELD = 900_101, 900_106, 900_201, 900_202, 900_203


def configured_for_delivery(conn: Settings) -> Settings:
    """The sandbox connection with a stage of the second pipeline, a tag and every deal field mapped."""
    conn.pipeline_id, conn.status_id = _second_pipeline_stage(conn)
    conn.tags = "sayt"
    conn.source_field_id, conn.product_field_id = SOURCE_FIELD, PRODUCT_FIELD
    conn.marker_field_id = MARKER_FIELD
    conn.save()
    return conn


def _second_pipeline_stage(conn: Settings) -> tuple[int, int]:
    pipeline = [p for p in client.list_pipelines(conn) if not p.is_main][0]
    return pipeline.id, [s for s in pipeline.statuses if s.type == 0][1].id


def new_lead(phone: str = "+998901234567", message: str = "", **fields) -> Delivery:
    lead = Lead.objects.create(name=fields.pop("name", "Dilnoza"), phone=phone, phone_raw=phone, message=message,
                               **fields)  # fmt: skip
    return Delivery.objects.create(lead=lead)


def drain(rounds: int = 20) -> None:
    """Run deliveries until none is due, ignoring backoff delays (the tests do not wait for the clock)."""
    for _ in range(rounds):
        lift_429_pause()
        Delivery.objects.exclude(state=DeliveryState.DELIVERED).update(next_attempt_at=timezone.now())
        if not batch.deliver_due() and not Delivery.due().exists():
            return


def lift_429_pause() -> None:
    """A 429 pauses everybody for a minute; here that minute passes at once (the spacing stays)."""
    ratelimit._redis().client.delete(ratelimit.PAUSED_UNTIL_KEY)


def deals(sandbox) -> list:
    return list(sandbox.state.leads.values())


def api_calls(sandbox, path: str) -> list:
    return [r for r in sandbox.received(path=path) if r.method == "POST"]
