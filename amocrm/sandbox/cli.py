"""Command-line options of the sandbox, shared by `manage.py amocrm_sandbox` and `python -m amocrm.sandbox`."""

import argparse
import os
from typing import Any

from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxConfig
from .faults import FaultConfig
from .server import SandboxServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001)")
    parser.add_argument("--client-id", help="integration id; default $AMOCRM_SANDBOX_CLIENT_ID or a fixed dev value")
    parser.add_argument("--client-secret", help="default $AMOCRM_SANDBOX_CLIENT_SECRET or a fixed dev value")
    parser.add_argument("--redirect-uri", help="registered redirect URI; default $SITE_URL/api/amocrm/callback")
    parser.add_argument("--subdomain", default="sandbox")
    parser.add_argument("--public-host", help="host:port given as `referer` and in links (default: the Host header)")
    parser.add_argument("--token-lifetime", type=int, default=86_400, help="access-token lifetime in seconds")
    parser.add_argument("--state-file", help="keep the sandbox's data in this JSON file across restarts")
    parser.add_argument("--duplicate-control", action="store_true", help="merge /leads/complex duplicates")
    parser.add_argument(
        "--https", action="store_true", help="serve HTTPS with a throwaway certificate (CA path printed)"
    )
    faults = parser.add_argument_group("faults (also changeable at run time: POST /_sandbox/control)")
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of API requests answered 500/502/504")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="share processed, then the connection drops")
    faults.add_argument("--latency-ms", type=int, default=0, help="added delay per API request")
    faults.add_argument("--connect-delay-ms", type=int, default=0, help="added delay per new connection's setup")
    faults.add_argument("--rate-limit", type=int, default=7, help="requests per second before 429; 0 disables")
    faults.add_argument("--rate-limit-body", choices=["html", "json"], default="html", help="429 body style")
    faults.add_argument("--block-after", type=int, default=10, help="429s within a minute before the 403 block")
    faults.add_argument("--faults-on-oauth", action="store_true", help="inject faults on /oauth2/* too")
    faults.add_argument("--seed", type=int, help="seed for the fault dice, for repeatable runs")


def build_server(options: dict[str, Any]) -> SandboxServer:
    """The server the options describe (not started); env defaults are read here, not at import."""
    site_url = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    config = SandboxConfig(
        client_id=options.get("client_id") or os.environ.get("AMOCRM_SANDBOX_CLIENT_ID") or DEFAULT_CLIENT_ID,
        client_secret=options.get("client_secret")
        or os.environ.get("AMOCRM_SANDBOX_CLIENT_SECRET")
        or DEFAULT_CLIENT_SECRET,
        redirect_uri=options.get("redirect_uri") or f"{site_url}/api/amocrm/callback",
        subdomain=options.get("subdomain") or "sandbox",
        public_host=options.get("public_host"),
        token_lifetime=options.get("token_lifetime") or 86_400,
        duplicate_control=bool(options.get("duplicate_control")),
        state_file=options.get("state_file"),
    )
    fault_keys = ("error_rate", "drop_rate", "latency_ms", "connect_delay_ms", "rate_limit", "rate_limit_body")
    fault_keys += ("block_after", "seed")
    faults = FaultConfig().updated({key: options[key] for key in fault_keys if options.get(key) is not None})
    faults.faults_on_oauth = bool(options.get("faults_on_oauth"))
    host, port = options.get("host") or "127.0.0.1", options.get("port", 8001)
    return SandboxServer(config, faults, host=host, port=port, https=bool(options.get("https")))


def describe(server: SandboxServer) -> str:
    config = server.config
    lines = [
        f"amoCRM sandbox listening on {server.url} (account '{config.subdomain}')",
        f"  AMOCRM_SANDBOX_URL={server.url}",
        f"  client id:     {config.client_id}",
        f"  client secret: {config.client_secret}",
        f"  redirect URI:  {config.redirect_uri}",
        f"  overview: {server.url}/   state: GET {server.url}/_sandbox/state",
        f"  faults:   POST {server.url}/_sandbox/control   reset: POST {server.url}/_sandbox/reset",
    ]
    if server.ca_cert_path:
        lines.append(f"  CA certificate: {server.ca_cert_path}")
        lines.append(
            f"    trust it: requests verify='{server.ca_cert_path}' or REQUESTS_CA_BUNDLE={server.ca_cert_path}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m amocrm.sandbox", description="Serve the amoCRM sandbox.")
    add_arguments(parser)
    server = build_server(vars(parser.parse_args(argv)))
    print(describe(server), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
