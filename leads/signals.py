from django.dispatch import Signal

# Sent inside the transaction that stores a lead (kwargs: lead). Receivers add their own rows
# (such as a delivery record) and queue work with acoustic.celery.enqueue_on_commit.
lead_stored = Signal()
