"""Builders shared by the two-way sync tests: webhook bodies in amoCRM's shape, pipelines, delivered leads."""

from urllib.parse import urlencode

from amocrm.models import Delivery, DeliveryState
from leads.models import Lead

ACCOUNT_ID = 30_000_001
SUBDOMAIN = "acoustic"
SALES, DEALERS = 7_700_001, 7_700_002
SALES_FIRST, SALES_NEGOTIATION, DEALERS_FIRST = 77_000_012, 77_000_013, 77_000_022
WON, LOST = 142, 143


def hook_body(action: str = "status", lead_id: int = 555, account_id: int | None = ACCOUNT_ID,
              subdomain: str = SUBDOMAIN, **fields) -> str:  # fmt: skip
    """A webhook as amoCRM posts it: PHP-style keys, every value a string."""
    pairs = [(f"leads[{action}][0][id]", str(lead_id))]
    pairs += [(f"leads[{action}][0][{key}]", str(value)) for key, value in fields.items()]
    if account_id is not None:
        pairs.append(("account[id]", str(account_id)))
    pairs += [("account[subdomain]", subdomain), ("account[_links][self]", f"https://{subdomain}.amocrm.ru")]
    return urlencode(pairs)


def status_hook(lead_id: int = 555, pipeline_id: int = SALES, status_id: int = WON, at: int = 1_700_000_000,
                old_status_id: int = SALES_FIRST) -> str:  # fmt: skip
    return hook_body(
        "status", lead_id, pipeline_id=pipeline_id, status_id=status_id, old_pipeline_id=pipeline_id,
        old_status_id=old_status_id, last_modified=at, name="Yangi so'rov: Dilnoza", price=0,
    )  # fmt: skip


def _status(pipeline_id: int, status_id: int, name: str, kind: int = 0) -> dict:
    return {"id": status_id, "name": name, "pipeline_id": pipeline_id, "type": kind, "sort": 10}


def pipelines_json() -> dict:
    """GET /api/v4/leads/pipelines: two pipelines, each with Unsorted, two stages, won and lost."""

    def pipeline(pid: int, name: str, is_main: bool, first: int, second: int, names: tuple[str, str]) -> dict:
        statuses = [_status(pid, pid * 10 + 1, "Неразобранное", 1), _status(pid, first, names[0]),
                    _status(pid, second, names[1]), _status(pid, WON, "Успешно реализовано"),
                    _status(pid, LOST, "Закрыто и не реализовано")]  # fmt: skip
        return {"id": pid, "name": name, "is_main": is_main, "_embedded": {"statuses": statuses}}

    return {"_embedded": {"pipelines": [
        pipeline(SALES, "Sales", True, SALES_FIRST, SALES_NEGOTIATION, ("First contact", "Negotiation")),
        pipeline(DEALERS, "Dealers", False, DEALERS_FIRST, DEALERS_FIRST + 1, ("New request", "Offer sent")),
    ]}}  # fmt: skip


def delivered_lead(amocrm_lead_id: int = 555, name: str = "Dilnoza") -> Delivery:
    lead = Lead.objects.create(name=name, phone="+998901234567", phone_raw="90 123 45 67")
    return Delivery.objects.create(lead=lead, amocrm_lead_id=amocrm_lead_id, state=DeliveryState.DELIVERED)
