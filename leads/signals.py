from django.dispatch import Signal

# Sent once per lead, by a worker soon after the intake answered (leads/dispatch.py), inside the transaction that
# clears the lead's dispatch_pending mark (kwargs: lead). Receivers add their own rows (such as a delivery record)
# and queue work with acoustic.celery.enqueue_on_commit; if one raises, the lead is dispatched again later.
lead_stored = Signal()
