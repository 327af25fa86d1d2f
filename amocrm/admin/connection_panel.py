"""What the settings page says about the connection: state, account, token expiry and warnings."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from amocrm.models import ConnectionState, Settings


@dataclass
class Panel:
    state: str
    connected: bool
    connect_label: str
    uses_long_lived_token: bool
    account_name: str
    connected_at: datetime | None
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    sending_paused_reason: str
    warnings: list[str]


def _warnings(conn: Settings, now: datetime) -> list[str]:
    if not conn.credentials_end_soon(now):
        return []
    if conn.uses_long_lived_token:
        text = _("The long-lived token ends on %(date)s. Paste a new one before then.")
    else:
        text = _("The refresh token ends on %(date)s. Press Reconnect before then, or leads stop reaching amoCRM.")
    return [text % {"date": formats.date_format(timezone.localtime(conn.credentials_end_at), "DATETIME_FORMAT")}]


def panel(conn: Settings) -> Panel:
    return Panel(
        state=conn.get_state_display(),
        connected=conn.is_connected,
        connect_label=_("Connect to amoCRM") if conn.state == ConnectionState.NOT_CONNECTED else _("Reconnect"),
        uses_long_lived_token=conn.uses_long_lived_token,
        account_name=conn.account_name,
        connected_at=conn.connected_at,
        access_token_expires_at=conn.token_expires_at,
        refresh_token_expires_at=None if conn.uses_long_lived_token else conn.refresh_token_expires_at,
        last_success_at=conn.last_success_at,
        last_error=conn.last_error,
        last_error_at=conn.last_error_at,
        sending_paused_reason=conn.sending_paused_reason,
        warnings=_warnings(conn, timezone.now()),
    )
