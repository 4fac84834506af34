"""The TLS example (deploy/nats/nats-tls.conf) runs, and the services' TLS settings reach it.

A CA, a server certificate for 127.0.0.1 and a client certificate are made for the test
(`cryptography`); the shipped file runs with only its certificate paths changed. A client
that does not speak TLS is refused; a service with `BOTRAM_NATS_TLS_CA` and its nkey
connects; with `verify: true` only a client with a certificate of the CA gets in.
"""

import asyncio
import datetime
import ipaddress
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from botram_runtime.bus_access import service_inbox_prefix
from botram_runtime.bus_client import connect_options
from botram_runtime.settings import ServiceSettings
from botram_runtime.stream import STREAM_NAME, ensure_streams
from helpers import SealedNats

pytestmark = pytest.mark.timeout(60)


def _key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


def _certificate(
    path: Path,
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
    *,
    server: bool = False,
) -> x509.Name:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    path.write_bytes(
        builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    )
    return subject


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("tls")
    paths = {name: directory / name for name in ("ca.crt", "ca.key", "server.crt", "server.key")}
    paths |= {name: directory / name for name in ("client.crt", "client.key")}
    ca_key = _key(paths["ca.key"])
    ca = _certificate(paths["ca.crt"], "Botram test CA", ca_key)
    _certificate(paths["server.crt"], "nats", _key(paths["server.key"]), (ca, ca_key), server=True)
    _certificate(paths["client.crt"], "registry", _key(paths["client.key"]), (ca, ca_key))
    return paths


def tls_server(directory: Path, certificates: dict[str, Path], *, verify: bool) -> SealedNats:
    replacements = {
        f'"/etc/nats/tls/{name}"': f'"{certificates[name]}"'
        for name in ("server.crt", "server.key", "ca.crt")
    }
    if verify:
        replacements["verify: false"] = "verify: true"
    return SealedNats(directory, tls=replacements).start()


@pytest.fixture
def tls_nats(tmp_path: Path, certificates: dict[str, Path]) -> Iterator[SealedNats]:
    server = tls_server(tmp_path, certificates, verify=False)
    yield server
    server.stop()


@pytest.fixture
def mutual_tls_nats(tmp_path: Path, certificates: dict[str, Path]) -> Iterator[SealedNats]:
    server = tls_server(tmp_path, certificates, verify=True)
    yield server
    server.stop()


def registry_settings(server: SealedNats, **tls: Path) -> ServiceSettings:
    return ServiceSettings(
        service_name="registry",
        nats_url=server.url,
        nats_nkey_seed=server.seeds["registry"],
        **tls,
    )


async def declare_streams(settings: ServiceSettings) -> str:
    nc = await nats.connect(
        **connect_options(settings, inbox_prefix=service_inbox_prefix("registry")),
        allow_reconnect=False,
    )
    try:
        await ensure_streams(nc.jetstream(timeout=5))
        return str((await nc.jetstream().stream_info(STREAM_NAME)).config.name)
    finally:
        await nc.close()


async def test_a_client_that_does_not_speak_tls_is_refused(tls_nats: SealedNats) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", tls_nats.port)
    try:
        info = json.loads((await asyncio.wait_for(reader.readline(), 5)).split(b" ", 1)[1])
        writer.write(b'CONNECT {"verbose": false}\r\nPING\r\n')
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
    finally:
        writer.close()

    assert info["tls_required"] is True
    assert b"PONG" not in answer


async def test_a_service_verifies_the_server_with_its_ca_and_authenticates_with_its_nkey(
    tls_nats: SealedNats, certificates: dict[str, Path]
) -> None:
    settings = registry_settings(tls_nats, nats_tls_ca=certificates["ca.crt"])

    assert await declare_streams(settings) == STREAM_NAME


async def test_a_server_certificate_of_another_ca_is_not_trusted(
    tls_nats: SealedNats, certificates: dict[str, Path], tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.crt"
    _certificate(other_ca, "Another CA", _key(tmp_path / "other-ca.key"))

    with pytest.raises(Exception, match=r"(?i)certificate verify failed"):
        await declare_streams(registry_settings(tls_nats, nats_tls_ca=other_ca))


async def test_with_verify_on_only_a_client_with_a_certificate_of_the_ca_gets_in(
    mutual_tls_nats: SealedNats, certificates: dict[str, Path]
) -> None:
    without = registry_settings(mutual_tls_nats, nats_tls_ca=certificates["ca.crt"])
    with_certificate = registry_settings(
        mutual_tls_nats,
        nats_tls_ca=certificates["ca.crt"],
        nats_tls_cert=certificates["client.crt"],
        nats_tls_key=certificates["client.key"],
    )

    with pytest.raises((ConnectionError, ssl.SSLError, nats.errors.Error)):  # no handshake
        await declare_streams(without)
    assert await declare_streams(with_certificate) == STREAM_NAME
