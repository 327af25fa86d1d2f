"""The one integration and account the sandbox serves, fixed at start-up.

Reference: https://www.amocrm.ru/developers/content/oauth/step-by-step,
https://www.amocrm.ru/developers/content/crm_platform/duplication-control
"""

from dataclasses import asdict, dataclass
from typing import Any

# Sandbox-only development credentials: they work against the sandbox and nowhere else.
DEFAULT_CLIENT_ID = "00000000-0000-4000-a000-000000000001"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret-not-for-production"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/api/amocrm/callback"

CODE_LIFETIME = 20 * 60  # authorization code lives 20 minutes
ACCESS_TOKEN_LIFETIME = 86_400  # 24 h
REFRESH_TOKEN_LIFETIME = 90 * 86_400  # 3 months


@dataclass
class SandboxConfig:
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uri: str = DEFAULT_REDIRECT_URI
    subdomain: str = "sandbox"
    integration_name: str = "Acoustic leads (sandbox)"
    token_lifetime: int = ACCESS_TOKEN_LIFETIME
    # Duplicate control only applies when the integration enabled it; off by default, like the checkbox.
    duplicate_control: bool = False
    # host:port given as `referer` and used in links; None means the Host header of each request.
    public_host: str | None = None
    state_file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
