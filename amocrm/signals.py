from django.dispatch import Signal

# Sent once a lead's deal exists in amoCRM and its delivery is complete (kwargs: delivery, deal_url). Receivers
# (such as the Telegram notifications) add their own rows and queue work with acoustic.celery.enqueue_on_commit.
deal_created = Signal()
