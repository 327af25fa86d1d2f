"""How long the request at hand may spend on amoCRM: a worker as long as it needs, a person's page about 10 s.

Pages, buttons and staff endpoints that call amoCRM run `within(...)` (or are decorated `@interactive`): the wait
for a rate-limit slot is short, and connecting and each answer get only what is left of the time, so neither a
sick amoCRM nor a queue of workers for request slots holds a web worker for longer. Outside it (Celery tasks,
commands) nothing changes: a worker waits its turn and amoCRM's full timeouts.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from time import monotonic

INTERACTIVE_SECONDS = 10.0
# A page waits this long at most for its turn under the shared rate limit; then "amoCRM is busy, try again".
INTERACTIVE_SLOT_WAIT = 2.0

_deadline: ContextVar[float | None] = ContextVar("amocrm_deadline", default=None)


@contextmanager
def within(seconds: float = INTERACTIVE_SECONDS) -> Iterator[None]:
    """Everything sent to amoCRM inside ends within `seconds` from now (an outer, earlier deadline stays)."""
    deadline = monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def interactive(view: Callable) -> Callable:
    """A view, or an admin button, that a person is waiting for."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with within():
            return view(*args, **kwargs)

    return wrapped


def seconds_left() -> float | None:
    """None outside `within`: no limit."""
    deadline = _deadline.get()
    return None if deadline is None else max(deadline - monotonic(), 0.0)
