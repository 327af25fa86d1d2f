"""A throwaway certificate authority and server certificate, so the sandbox can serve HTTPS as amoCRM does.

amoCRM's API is HTTPS only (https://www.amocrm.ru/developers/content/api/recommendations), so the time a client
spends on TLS handshakes is part of how its requests arrive. Made at start-up with `cryptography` (a dependency of
the project's encrypted fields, imported only when HTTPS is asked for), valid for a week for 127.0.0.1, ::1,
localhost and the listening host, and written to a temporary folder. A client trusts the sandbox by trusting
`ca_cert_path`: requests' `verify=<path>` or REQUESTS_CA_BUNDLE=<path>.
"""

import datetime
import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL_NAMES = ("127.0.0.1", "::1", "localhost")
VALID_FOR = datetime.timedelta(days=7)


@dataclass
class Certificates:
    folder: Path
    ca_cert_path: Path  # what a client trusts
    cert_path: Path  # the server's certificate, signed by the CA
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # amoCRM recommends TLS 1.2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_cert_path))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _names(hosts: tuple[str, ...]) -> list[Any]:
    from cryptography import x509

    names: list[Any] = []
    for host in dict.fromkeys((*LOCAL_NAMES, *hosts)):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _certificate(subject: str, issuer: Any, key: Any, signer: Any, extensions: list[tuple[Any, bool]]) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, hashes.SHA256())


def _key_usage(**allowed: bool) -> Any:
    from cryptography import x509

    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement")
    names += ("key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def _authority() -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amoCRM sandbox throwaway CA")])
    usage = _key_usage(key_cert_sign=True, crl_sign=True)
    extensions = [(x509.BasicConstraints(ca=True, path_length=0), True), (usage, True)]
    return key, _certificate("amoCRM sandbox throwaway CA", name, key, key, extensions)


def _server(ca_key: Any, ca_cert: Any, hosts: tuple[str, ...]) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ec.generate_private_key(ec.SECP256R1())
    usage = _key_usage(digital_signature=True)
    extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(_names(hosts)), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    ]
    return key, _certificate("amoCRM sandbox", ca_cert.subject, key, ca_key, extensions)


def make_certificates(hosts: tuple[str, ...] = ()) -> Certificates:
    """A new CA and a server certificate for the local names plus `hosts`, as PEM files in a new temp folder."""
    from cryptography.hazmat.primitives import serialization

    ca_key, ca_cert = _authority()
    key, cert = _server(ca_key, ca_cert, hosts)
    folder = Path(tempfile.mkdtemp(prefix="amocrm-sandbox-tls-"))
    paths = Certificates(folder, folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    paths.ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    paths.key_path.write_bytes(private)
    paths.key_path.chmod(0o600)
    return paths
