"""When the shop answers: the working hours the unanswered-lead alert counts in, as staff set them for amoCRM."""

from amocrm.models import Settings
from amocrm.models.manager_work import WorkingHours

DEFAULT = WorkingHours()


def current() -> WorkingHours:
    """The shop's working hours from the amoCRM settings (days, opening and closing time, Tashkent)."""
    return Settings.load().working_hours()
