"""The ways a message leaves the platform, each saying whether a failure is worth another try;
and the templates messages are written from. The outside world of the use cases
(services/notifikasi/usecases.py): the entrypoints hand them `send` and `Templates`."""
import contextlib
import email.policy
import functools
import json
import smtplib
import socket
import ssl
import time
import uuid

import requests
import urllib3
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context,
                    select_autoescape)

from services.common.outbox import CLOUDEVENTS_CONTENT_TYPE
from services.common.phone import InvalidPhone, to_e164
from services.common.waktu import tanggal, waktu
from services.notifikasi.domain import (KANAL, SIGNATURE_HEADER, PermanentFailure, TemporaryFailure,
                                        in_blocked_network, signature)

BUILT_IN_TEMPLATES = Path(__file__).parent / "templates"


def one_line(value):
    """Free text as one line: a WhatsApp template parameter is one line of its template file."""
    return " ".join(str(value).split())


@pass_context
def local_waktu(context, value, kode_wilayah=None):
    """The `waktu` filter of the templates: in the zone of the area named, else of the area the
    message is about (`wilayah`, the event's)."""
    return waktu(value, kode_wilayah or context.get("wilayah"))


class Templates:
    """One template per message and channel, `<message>.<channel>.txt`, where the message is the
    event type, with the audience where one event tells several kinds of people
    (`aspirasi.diterima.pelapor`, `aspirasi.diterima.sekretaris`). The first line is the
    subject (for WhatsApp: the approved template's name), the rest the body; the inbox shows the
    email's text unless it has its own. A file of the same name in the operator's directory
    (NOTIFIKASI_TEMPLATE_DIR) replaces the built-in one, so wording changes need no code; and a
    channel is used for a message only where a template for it exists, so an operator switches
    SMS on for activity notices by adding `kegiatan.dijadwalkan.sms.txt`."""

    def __init__(self, operator_dir=None):
        loaders = [FileSystemLoader(operator_dir)] if operator_dir else []
        self.environment = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(BUILT_IN_TEMPLATES)]),
                                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                                       keep_trailing_newline=True)
        self.environment.filters["waktu"] = local_waktu
        self.environment.filters["tanggal"] = tanggal
        self.environment.filters["satu_baris"] = one_line

    def _find(self, *names):
        """The first of these templates there is now (an operator may add or remove some at any
        time; Jinja checks the files' times, it does not list the directories)."""
        try:
            return self.environment.select_template(names)
        except TemplateNotFound:
            return None

    def _template(self, message, channel):
        return self._find(f"{message}.{channel}.txt", *([f"{message}.email.txt"] if channel == "inbox" else []))

    def channels(self, message):
        """The channels this message has a template for."""
        return {channel for channel in KANAL if self._template(message, channel)}

    def render(self, message, channel, **context):
        template = self._template(message, channel)
        if template is None:  # removed by an operator while messages were waiting
            raise TemplateNotFound(f"{message}.{channel}.txt")
        text = template.render(**context)
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")

    def render_html(self, message, **context):
        """The HTML part of an email, from `<message>.email.html` (autoescaped: what people
        typed cannot become markup), or None when there is no such template."""
        template = self._find(f"{message}.email.html")
        return template.render(**context) if template else None

    def opt_out_footer(self, berhenti_url):
        """The lines under every email's text that give its opt-out link (`_berhenti.email.txt`)."""
        return self._find("_berhenti.email.txt").render(berhenti_url=berhenti_url)


def message_id(key):
    """An email's Message-ID, the same for every try of one delivery (its key)."""
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, key)}@bkpm>"


# Header lines as long as RFC 5322 allows: a List-Unsubscribe URL cannot be folded, and at the
# default 78 characters Python would encode it as an RFC 2047 word that mail programs ignore.
EMAIL_POLICY = email.policy.default.clone(max_line_length=998)


def email_message(config, to, rendered, key):
    """One email (plain text, with an HTML alternative when there is one); the Message-ID is
    derived from the delivery's key, so a receiver can tell a repeat from a new message. With an
    opt-out link, mail programs offer it as their own unsubscribe button, which stops the emails
    at one click (RFC 8058)."""
    message = EmailMessage(policy=EMAIL_POLICY)
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Message-ID"] = message_id(key)
    if rendered.berhenti_url:
        message["List-Unsubscribe"] = f"<{rendered.berhenti_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
    return message


def send_email(config, to, rendered, key):
    """Send one email (email_message) through the SMTP server; whether a failure is worth
    another try."""
    message = email_message(config, to, rendered, key)
    try:
        with smtp_session(config) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"alamat ditolak server SMTP ({len(exc.recipients)} penerima)") from None
    except smtplib.SMTPNotSupportedError:
        raise PermanentFailure("server SMTP tidak mendukung alamat ini (SMTPUTF8)") from None
    except smtplib.SMTPResponseException as exc:
        failure = TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
        raise failure(f"SMTP {exc.smtp_code}") from None
    except ssl.SSLCertVerificationError:
        # The server is not who SMTP_HOST names, or its certificate is not one SMTP_CA_FILE (or
        # the system) trusts: nothing is sent, the password included, until that is put right.
        raise TemporaryFailure("sertifikat server SMTP tidak terverifikasi (SMTP_HOST, SMTP_CA_FILE)") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise TemporaryFailure(f"server SMTP tidak dapat dihubungi ({type(exc).__name__})") from None


@contextlib.contextmanager
def smtp_session(config):
    """A connection to the SMTP server as SMTP_TLS says (config.smtp_tls), logged in. With
    starttls or tls it is encrypted, the server's certificate and host name verified, before the
    login or any message is sent."""
    timeout = config.send_timeout
    if config.smtp_tls == "tls":
        smtp = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=timeout, context=config.smtp_tls_context())
    else:
        smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout)
    with smtp:
        try:
            if config.smtp_tls == "starttls":
                smtp.starttls(context=config.smtp_tls_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
        except smtplib.SMTPNotSupportedError:
            # The server's setup, not this message (unlike SMTPUTF8 in send_email): worth another try.
            raise TemporaryFailure("server SMTP tidak menawarkan STARTTLS atau AUTH (SMTP_TLS, SMTP_USER)") from None
        yield smtp


def provider_number(address):
    """The number as providers are handed it, in E.164, also one stored in another form before
    numbers were E.164 ('0812…'); a number that is not a mobile's is not worth another try
    (the chain goes on to the next channel). The reason, which the log keeps, names no number."""
    try:
        return to_e164(address)
    except InvalidPhone:
        raise PermanentFailure("nomor tujuan bukan nomor seluler yang valid") from None


def send_via_provider(url, token, payload, key, timeout):
    """POST one message to an SMS or WhatsApp provider speaking the generic JSON webhook: the
    delivery's key goes as `Idempotency-Key`, so a provider can drop a repeat."""
    headers = {"Idempotency-Key": key, **({"Authorization": f"Bearer {token}"} if token else {})}
    post(url, json.dumps(payload).encode(), headers, timeout, "penyedia")


BLOCKED = "alamat webhook berada di jaringan yang diblokir (WEBHOOK_BLOCKED_NETWORKS)"


def send_to_webhook(url, secret, body, key, timeout, blocked_networks=()):
    """POST one event to another system's webhook, signed (domain.signature) at the moment of
    sending, with the delivery's key as `Idempotency-Key`; the body is the whole CloudEvent, and
    the content type says so (the HTTP binding's structured mode). A URL whose host resolves into a
    blocked network (the platform's own loopback, cloud metadata) is refused: a webhook must
    not become a way to reach what sits beside the platform. The address connected to is
    checked again (guarded_session), since a name may resolve elsewhere the second time."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        raise TemporaryFailure("nama host webhook tidak dapat di-resolve") from None
    if any(in_blocked_network(address, blocked_networks) for address in addresses):
        raise PermanentFailure(BLOCKED)
    headers = {"Content-Type": CLOUDEVENTS_CONTENT_TYPE, "Idempotency-Key": key,
               SIGNATURE_HEADER: signature(secret, int(time.time()), body)}
    with guarded_session(tuple(blocked_networks)) as session:
        post(url, body, headers, timeout, "webhook", session)


class BlockedPeer(Exception):
    """A connection reached an address in a blocked network."""


class PeerCheck:
    """Part of a urllib3 connection: once connected, it hangs up on a peer in a blocked network.
    The check is on the address the socket really reached, so a host name that resolved to an
    allowed address for send_to_webhook's check and to a blocked one now (DNS rebinding) gets
    no request."""

    blocked_networks = ()

    def _new_conn(self):
        sock = super()._new_conn()
        if in_blocked_network(sock.getpeername()[0], self.blocked_networks):
            sock.close()
            raise BlockedPeer()
        return sock


def guarded_session(blocked_networks):
    """A requests session whose direct connections refuse peers in `blocked_networks` (one
    through a proxy from the environment reaches the proxy, which resolves the name itself)."""
    session = requests.Session()
    adapter = guarded_adapter(blocked_networks)
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter())
    return session


@functools.cache
def guarded_adapter(blocked_networks):
    """The requests adapter class of guarded_session, made once per list of networks."""
    def guarded(pool_class):
        connection = type(f"Guarded{pool_class.ConnectionCls.__name__}", (PeerCheck, pool_class.ConnectionCls),
                          {"blocked_networks": blocked_networks})
        return type(f"Guarded{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection})

    pools = {"http": guarded(urllib3.HTTPConnectionPool), "https": guarded(urllib3.HTTPSConnectionPool)}

    class GuardedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return GuardedAdapter


def post(url, body, headers, timeout, whom, session=requests):
    """2xx is sent; 5xx, 429, timeouts and refused connections are temporary; any other 4xx
    (and a redirect, which a POST should not need) is permanent."""
    try:
        response = session.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                                timeout=timeout, allow_redirects=False)
    except BlockedPeer:
        raise PermanentFailure(BLOCKED) from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        raise PermanentFailure(f"URL {whom} tidak valid") from None
    except requests.RequestException as exc:
        raise TemporaryFailure(f"{whom} tidak dapat dihubungi ({type(exc).__name__})") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TemporaryFailure(f"{whom} menjawab {response.status_code}")
    if response.status_code >= 300:
        raise PermanentFailure(f"{whom} menolak ({response.status_code})")


def configured(config):
    """The channels this platform is set up for: email and the inbox always, SMS and WhatsApp
    when their provider's URL is configured."""
    providers = {"sms": config.sms_provider_url, "whatsapp": config.whatsapp_provider_url}
    return frozenset({"email", "inbox", *(channel for channel, url in providers.items() if url)})


def send(config, delivery, message, webhook):
    """One message over one channel. WhatsApp's first message must use an approved template:
    its template's first line is the template's name, each further line one parameter. The
    inbox is written when the delivery is settled, with it."""
    channel, address, key = delivery["kanal"], delivery["tujuan"], delivery["id"]
    if channel == "email":
        send_email(config, address, message, key)
    elif channel == "sms":
        send_via_provider(config.sms_provider_url, config.sms_provider_token,
                          {"kanal": "sms", "ke": provider_number(address), "pesan": message.text.strip()}, key,
                          config.send_timeout)
    elif channel == "whatsapp":
        send_via_provider(config.whatsapp_provider_url, config.whatsapp_provider_token,
                          {"kanal": "whatsapp", "ke": provider_number(address), "templat": {
                              "nama": message.subject, "bahasa": "id",
                              "parameter": message.text.strip().splitlines()}},
                          key, config.send_timeout)
    elif channel == "webhook":
        send_to_webhook(address, webhook["rahasia"], json.dumps(delivery["konteks"]["event"]).encode(), key,
                        config.send_timeout, config.webhook_blocked_networks)
