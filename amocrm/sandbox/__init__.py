"""A local stand-in for one amoCRM account and one integration, served over plain HTTP.

Start it with `python manage.py amocrm_sandbox` (or `python -m amocrm.sandbox`), or in tests with the
`amocrm_sandbox` fixture from `amocrm.sandbox.fixtures`. See README.md in this folder.
"""

from .clock import Clock
from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxConfig
from .faults import FaultConfig
from .server import SandboxServer

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "Clock", "FaultConfig", "SandboxConfig", "SandboxServer"]
