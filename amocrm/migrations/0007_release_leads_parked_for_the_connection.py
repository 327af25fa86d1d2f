"""Release leads that an earlier version parked in "needs attention" for the connection's or the account's fault.

Before, any permanent error without field errors (a 402, a revoked or expired token, the token endpoint refusing
the secret) parked the lead for good. Only amoCRM rejecting a lead's own data parks it now: a field named
(last_error_path set) or a one-lead batch refused with 400, whose message begins "amoCRM rejected the data:" in
the language the worker ran in. Every other parked lead is made due again; a connection that still cannot send
holds it until it can. Reversing does nothing: which leads were parked for which reason is not kept.
"""

from django.db import migrations
from django.db.models.functions import Now

# The message of amoCRM refusing a lead's data, as the catalogs of this release write it (frozen here, so a later
# change of wording cannot change what this migration does).
REJECTED_THE_DATA = ("amoCRM rejected the data:", "amoCRM ma’lumotlarni rad etdi:", "amoCRM отклонил данные:")


def release_parked_for_the_connection(apps, schema_editor) -> None:
    Delivery = apps.get_model("amocrm", "Delivery")
    parked = Delivery.objects.filter(state="needs_attention", last_error_path="")
    for prefix in REJECTED_THE_DATA:
        parked = parked.exclude(last_error__startswith=prefix)
    parked.update(state="pending", next_attempt_at=Now(), claim_token="", claimed_until=None)


class Migration(migrations.Migration):
    dependencies = [("amocrm", "0006_settings_sending_probe_at")]

    operations = [migrations.RunPython(release_parked_for_the_connection, migrations.RunPython.noop, elidable=True)]
