"""Issue 4: several OS processes that all hit 401 at once make exactly one refresh request, and none is revoked.

Real processes (one interpreter each), real Redis (the lock and the rate limiter), one SQLite file they share,
and the sandbox in this process as amoCRM, whose refresh tokens work once.
"""

import json
import os
import subprocess
import sys

from django.conf import settings as django_settings

from amocrm.sandbox import tokens as sandbox_tokens
from amocrm.sandbox.catalog import ACCOUNT_ID

PROCESSES = 4
TOKEN_PATH = "/oauth2/access_token"

# Loads the stored pair, says "ready", waits for the go file, then calls the API with its (now expired) token.
WORKER = """
import os, sys, time
import django
django.setup()
from amocrm.api import client
from amocrm.models import Settings
conn = Settings.load()
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.005)
try:
    print("account", client.get_account(conn).id, flush=True)
except client.AmoError as error:
    print("error", error.kind, error.message, flush=True)
"""

# Stores the pair the sandbox issued, as the OAuth callback would.
SEED = """
import json, sys
import django
django.setup()
from amocrm.models import Settings
data = json.loads(sys.argv[1])
conn = Settings.load()
conn.client_id, conn.client_secret, conn.domain = data["client_id"], data["client_secret"], data["domain"]
conn.save()
conn.store_tokens(data["access_token"], data["refresh_token"], data["expires_in"])
"""


def _environment(sandbox, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "REDIS_URL": django_settings.REDIS_URL,
        "AMOCRM_SANDBOX_URL": sandbox.url,
        "SITE_URL": django_settings.SITE_URL,
        "DJANGO_SETTINGS_MODULE": "acoustic.settings",
        "PYTHONPATH": str(django_settings.BASE_DIR),
    }


def _python(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, *args], env=env, cwd=django_settings.BASE_DIR, check=True, timeout=120)


def _connected_database(sandbox, env: dict[str, str]) -> None:
    _python(env, "manage.py", "migrate", "--no-input", "-v", "0")
    pair = sandbox.issue_tokens()
    seed = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "domain": sandbox.host, **pair}
    _python(env, "-c", SEED, json.dumps(seed))
    sandbox_tokens.expire_access_tokens(sandbox.state)  # the database still says a day is left: everyone gets 401


def _run_workers(env: dict[str, str], go_file) -> list[str]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go_file)], env=env, cwd=django_settings.BASE_DIR, stdout=subprocess.PIPE
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == b"ready"
    go_file.touch()
    return [worker.communicate(timeout=120)[0].decode().strip() for worker in workers]


def test_processes_hitting_401_at_once_refresh_exactly_once(sandbox, tmp_path):
    env = _environment(sandbox, tmp_path)
    _connected_database(sandbox, env)
    exchanges = len(sandbox.received(TOKEN_PATH))

    outputs = _run_workers(env, tmp_path / "go")

    assert outputs == [f"account {ACCOUNT_ID}"] * PROCESSES
    assert [r.status for r in sandbox.received("/api/v4/account")].count(401) == PROCESSES
    assert [r.status for r in sandbox.received(TOKEN_PATH)][exchanges:] == [200]  # one refresh, nothing revoked
    assert sum(not t.refresh_spent for t in sandbox.state.tokens) == 1
