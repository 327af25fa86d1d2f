"""Every dispatched lead gets a delivery record in the dispatch's transaction, and a push queued after its commit."""

from acoustic.celery import enqueue_on_commit
from amocrm.models import Delivery


def create_delivery(sender, lead, **kwargs) -> None:
    from amocrm.tasks import push_lead

    delivery, _ = Delivery.objects.get_or_create(lead=lead)  # safe if a lead is ever dispatched twice
    enqueue_on_commit(push_lead, delivery.id)
