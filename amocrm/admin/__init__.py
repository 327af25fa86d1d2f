"""The amoCRM admin: importing the package registers every page (Django's autodiscover imports amocrm.admin)."""

from amocrm.admin import lead_list, logs, rotation_pools, routing_rules, settings_page  # noqa: F401 - registrations
