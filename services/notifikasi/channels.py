"""The ways a message leaves the platform, each saying whether a failure is worth another try;
and the templates messages are written from."""
import smtplib
import uuid

import requests
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifikasi.domain import PermanentFailure, TemporaryFailure

WIB = ZoneInfo("Asia/Jakarta")

BUILT_IN_TEMPLATES = Path(__file__).parent / "templates"
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


def waktu(value):
    """'2026-12-02T09:00:00+07:00' -> 'Rabu, 2 Desember 2026 pukul 09.00 WIB'."""
    moment = datetime.fromisoformat(value).astimezone(WIB)
    return f"{HARI[moment.weekday()]}, {moment.day} {BULAN[moment.month - 1]} {moment.year} " \
           f"pukul {moment:%H.%M} WIB"


class Templates:
    """One template per event and channel, `<event type>.<channel>.txt` (`.html` is autoescaped):
    the first line is the subject, the rest the body. A file of the same name in the operator's
    directory (NOTIFIKASI_TEMPLATE_DIR) replaces the built-in one, so wording changes need no code."""

    def __init__(self, operator_dir=None):
        loaders = [FileSystemLoader(operator_dir)] if operator_dir else []
        self.environment = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(BUILT_IN_TEMPLATES)]),
                                       autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                                       keep_trailing_newline=True)
        self.environment.filters["waktu"] = waktu

    def render(self, event_type, channel, **context):
        text = self.environment.get_template(f"{event_type}.{channel}.txt").render(**context)
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")


def send_email(config, to, subject, body, key):
    """Send one email; the Message-ID is derived from the delivery's key, so a receiver can tell
    a repeat from a new message."""
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid5(uuid.NAMESPACE_URL, key)}@bkpm>"
    message.set_content(body)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=10) as smtp:
            if config.smtp_tls:
                smtp.starttls()
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"alamat ditolak server SMTP ({len(exc.recipients)} penerima)") from None
    except smtplib.SMTPResponseException as exc:
        failure = TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
        raise failure(f"SMTP {exc.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise TemporaryFailure(f"server SMTP tidak dapat dihubungi ({type(exc).__name__})") from None


def send_via_provider(url, token, payload, key):
    """POST one message to an SMS or WhatsApp provider speaking the generic JSON webhook: the
    delivery's key goes as `Idempotency-Key`, so a provider can drop a repeat. 2xx is sent; 5xx,
    429, timeouts and refused connections are temporary; any other 4xx is permanent."""
    headers = {"Idempotency-Key": key, **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=10)
    except requests.RequestException as exc:
        raise TemporaryFailure(f"penyedia tidak dapat dihubungi ({type(exc).__name__})") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TemporaryFailure(f"penyedia menjawab {response.status_code}")
    if response.status_code >= 400:
        raise PermanentFailure(f"penyedia menolak ({response.status_code})")
