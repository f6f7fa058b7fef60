"""notifikasi speaks to its SMTP server over TLS with the server verified (SMTP_TLS=starttls|tls):
a real aiosmtpd server with a certificate from a certificate authority made here for the test.
The server is believed, and hears the password, only when SMTP_CA_FILE names that authority and
the certificate is for the name connected to."""
import ipaddress
import ssl
import threading
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.common.config import Settings
from services.notifikasi.channels import send_email
from services.notifikasi.domain import Message, TemporaryFailure
from services.stack import free_port

PASSWORD = "kata-sandi-smtp-uji"


def certificate(subject, issuer_name, issuer_key, public_key, ca=False, names=()):
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(value):
    if isinstance(value, x509.Certificate):
        return value.public_bytes(serialization.Encoding.PEM)
    return value.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throwaway CA (its certificate in ca.pem) and server certificates it signed: one for this
    machine (127.0.0.1 and localhost), one for another host's name."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    (folder / "ca.pem").write_bytes(pem(certificate("CA uji BKPM", "CA uji BKPM", ca_key, ca_key.public_key(),
                                                    ca=True)))
    contexts = {}
    for name, names in (("lokal", [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                        ("lain", [x509.DNSName("smtp.contoh.go.id")])):
        key = ec.generate_private_key(ec.SECP256R1())
        (folder / f"{name}.pem").write_bytes(
            pem(certificate(name, "CA uji BKPM", ca_key, key.public_key(), names=names)) + pem(key))
        contexts[name] = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        contexts[name].load_cert_chain(folder / f"{name}.pem")
    return folder / "ca.pem", contexts


class Mailbox:
    """What the server received: messages, and the logins it was told."""

    def __init__(self):
        self.messages, self.logins = [], []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(envelope.rcpt_tos)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        with self._lock:
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


@pytest.fixture
def smtp_server():
    """start(mode, context): an aiosmtpd on 127.0.0.1 speaking implicit TLS ('tls'), STARTTLS only
    ('starttls'), or plain SMTP ('none'); its mailbox."""
    controllers = []

    def start(mode, context=None):
        box = Mailbox()
        # aiosmtpd counts only STARTTLS as TLS for AUTH: over implicit TLS it must be told.
        tls = {"tls": {"ssl_context": context, "auth_require_tls": False},
               "starttls": {"tls_context": context, "require_starttls": True}}.get(mode, {})
        controller = Controller(box, hostname="127.0.0.1", port=free_port(), authenticator=box.authenticate,
                                **tls)
        controller.start()
        controllers.append(controller)
        return box, controller.port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def configure(monkeypatch):
    def settings(port, mode, ca_file=None):
        for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_TLS": mode, "SMTP_USER": "bkpm",
                            "SMTP_PASSWORD": PASSWORD, "NOTIFIKASI_LEASE_SECONDS": "15"}.items():
            monkeypatch.setenv(name, value)
        if ca_file:
            monkeypatch.setenv("SMTP_CA_FILE", str(ca_file))
        else:
            monkeypatch.delenv("SMTP_CA_FILE", raising=False)
        return Settings()
    return settings


def send(config):
    send_email(config, "ani@contoh.id", Message("Subjek", "Isi\n"), "kunci-uji")


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_a_server_whose_certificate_the_named_ca_signed_gets_the_login_and_the_email(pki, smtp_server, configure,
                                                                                   mode):
    ca_file, contexts = pki
    box, port = smtp_server(mode, contexts["lokal"])
    send(configure(port, mode, ca_file))
    assert box.messages == [["ani@contoh.id"]]
    assert box.logins == [("bkpm", PASSWORD)]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_a_server_the_system_does_not_trust_gets_nothing_and_the_email_is_tried_again(pki, smtp_server, configure,
                                                                                    mode):
    _, contexts = pki
    box, port = smtp_server(mode, contexts["lokal"])
    with pytest.raises(TemporaryFailure, match="sertifikat server SMTP tidak terverifikasi"):
        send(configure(port, mode))
    assert (box.messages, box.logins) == ([], [])


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_a_certificate_for_another_host_name_is_refused_though_the_ca_signed_it(pki, smtp_server, configure, mode):
    ca_file, contexts = pki
    box, port = smtp_server(mode, contexts["lain"])
    with pytest.raises(TemporaryFailure, match="sertifikat server SMTP tidak terverifikasi"):
        send(configure(port, mode, ca_file))
    assert (box.messages, box.logins) == ([], [])


def test_a_server_without_starttls_never_hears_the_password(smtp_server, configure):
    box, port = smtp_server("none")
    with pytest.raises(TemporaryFailure, match="STARTTLS"):
        send(configure(port, "starttls"))
    assert (box.messages, box.logins) == ([], [])


def test_a_server_that_offers_no_login_is_tried_again_later_not_given_up_on(smtp_server, configure):
    box, port = smtp_server("none")  # aiosmtpd offers AUTH only over TLS
    with pytest.raises(TemporaryFailure, match="AUTH"):
        send(configure(port, "none"))
    assert box.messages == []
