"""Outgoing e-mail settings: the Settings page (encrypted in the database) wins over the
``SMTP_*`` environment variables; a readable diagnosis of a failed connection for the operator."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

from app.services import settings
from config import TRUE_VALUES

GROUP = "email"  # the Settings page card (app.registry.SETTINGS_ONLY)


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    use_tls: bool
    use_ssl: bool
    user: str | None
    password: str | None
    sender: str
    timeout: float

    @property
    def configured(self) -> bool:
        return bool(self.host)


def _flag(value: str | None, fallback: bool) -> bool:
    return value.strip().lower() in TRUE_VALUES if value else bool(fallback)


def current() -> SmtpSettings:
    """The settings a delivery uses now (database first, then the app's ``MAIL_*`` config);
    one query."""
    config = current_app.config
    saved = settings.stored_group(GROUP)
    host = saved.get("SMTP_HOST")
    port = saved.get("SMTP_PORT")
    use_ssl = _flag(saved.get("SMTP_USE_SSL"), config.get("MAIL_USE_SSL", False))
    use_tls = _flag(saved.get("SMTP_USE_TLS"), config.get("MAIL_USE_TLS", False))
    if port and port.isdecimal():
        port_number = int(port)
    elif host:  # a host saved on the page without a port: the usual one for its security
        port_number = 465 if use_ssl else 587 if use_tls else 25
    else:
        port_number = int(config.get("MAIL_PORT") or 25)
    return SmtpSettings(
        host=host or (config.get("MAIL_SERVER") if config.get("SMTP_HOST") else None),
        port=port_number,
        use_tls=use_tls and not use_ssl,
        use_ssl=use_ssl,
        user=saved.get("SMTP_USER") or config.get("MAIL_USERNAME"),
        password=saved.get("SMTP_PASSWORD") or config.get("MAIL_PASSWORD"),
        sender=saved.get("SMTP_FROM")
        or config.get("MAIL_DEFAULT_SENDER")
        or "nao-responda@localhost",
        timeout=float(config.get("MAIL_TIMEOUT", 10.0)),
    )


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated connection (the caller closes it: ``with connect(s) as host``)."""
    cls = smtplib.SMTP_SSL if smtp.use_ssl else smtplib.SMTP
    host = cls(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.use_tls:
            host.starttls()
        if smtp.user and smtp.password:
            host.login(smtp.user, smtp.password)
    except BaseException:
        host.close()
        raise
    return host


def explain(exc: BaseException, smtp: SmtpSettings) -> str:
    """What went wrong, in words a seller can act on (never the password)."""
    where = f"{smtp.host}:{smtp.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            "O servidor recusou o usuário ou a senha. No Gmail e no Outlook use uma “senha de "
            "app” (a senha normal é recusada)."
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (
            f"O servidor não aceita enviar como “{smtp.sender}”: use no remetente o e-mail da "
            "conta (ou um domínio autorizado nela)."
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "O servidor recusou o destinatário: confira o endereço."
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "O servidor não oferece STARTTLS nesta porta: tente SSL direto na porta 465."
    if isinstance(exc, ssl.SSLError):
        return (
            f"Falha na conexão segura com {where}: confira a porta e a segurança (587 com "
            "STARTTLS, ou 465 com SSL direto)."
        )
    if isinstance(exc, socket.gaierror):
        return f"Servidor “{smtp.host}” não encontrado: confira o nome do servidor SMTP."
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where} não respondeu a tempo: confira a porta ou se o provedor bloqueia a saída."
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} recusou a conexão: confira o servidor e a porta."
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return (
            f"{where} encerrou a conexão: a porta pode exigir SSL direto (465) ou STARTTLS (587)."
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if exc.smtp_error else ""
        return f"O servidor respondeu {exc.smtp_code}: {message[:200]}"
    if isinstance(exc, OSError):
        return f"Não foi possível conectar a {where}: {exc.strerror or exc}"
    return f"Erro ao enviar: {type(exc).__name__}"


def _sender_domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] or "localhost"


def new_message(smtp: SmtpSettings, to: str, subject: str) -> EmailMessage:
    """A message with the headers every e-mail of the app carries (From the configured sender,
    Date, a Message-ID of the sender's domain); RFC 2047 headers folded under 78 columns."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject
    message["From"] = smtp.sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_sender_domain(smtp.sender))
    return message


def send_test(to: str) -> tuple[bool, str]:
    """Send one test message with the current settings, now; (ok, what to tell the operator)."""
    smtp = current()
    if not smtp.configured:
        return False, "Informe e salve o servidor SMTP antes de testar."
    message = new_message(smtp, to, "Teste de e-mail do Vendas Hub")
    message.set_content(
        "Este é um e-mail de teste do Vendas Hub.\n\n"
        "Se você recebeu, o envio está funcionando: os compradores vão receber os links de "
        "ativação por este mesmo caminho.\n"
    )
    try:
        with connect(smtp) as host:
            host.send_message(message)
    except Exception as exc:  # every failure becomes a readable message, never a 500
        return False, explain(exc, smtp)
    return True, (
        f"E-mail de teste enviado para {to} por {smtp.host}:{smtp.port}. Confira a caixa de "
        "entrada (e a de spam)."
    )
