"""Every stored lead gets a delivery record in the same transaction, and a push queued after commit."""

from acoustic.celery import enqueue_on_commit
from amocrm.models import Delivery


def create_delivery(sender, lead, **kwargs) -> None:
    from amocrm.tasks import push_lead

    delivery = Delivery.objects.create(lead=lead)
    enqueue_on_commit(push_lead, delivery.id)
