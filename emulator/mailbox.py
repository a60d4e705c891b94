"""A local mail catcher for ``make demo``: an SMTP server that keeps what the app sends and a
small web page where the operator opens each message (and its activation link).

``python -m emulator.mailbox --smtp-port 1025 --http-port 5056``. Nothing leaves the machine:
messages live in memory (the newest ``MAX_MESSAGES``) and are gone when the process ends. Each
link found in a message is also printed, so a demo can be followed from the terminal alone.
"""

from __future__ import annotations

import argparse
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from itertools import count

from markupsafe import Markup, escape
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

MAX_MESSAGES = 500
LINK_RE = re.compile(r"https?://[^\s<>\"')]+")


@dataclass
class Caught:
    id: int
    received_at: datetime
    sender: str
    to: list[str]
    subject: str
    text: str
    html: str | None
    links: list[str] = field(default_factory=list)


class Mailbox:
    """The messages caught so far, newest first; safe to use from the SMTP and web threads."""

    def __init__(self, limit: int = MAX_MESSAGES):
        self._messages: deque[Caught] = deque(maxlen=limit)
        self._ids = count(1)
        self._lock = threading.Lock()

    def add(self, raw: bytes, sender: str, recipients: list[str]) -> Caught:
        message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        text = text_part.get_content() if text_part is not None else ""
        html = html_part.get_content() if html_part is not None else None
        with self._lock:
            caught = Caught(
                id=next(self._ids),
                received_at=datetime.now(UTC),
                sender=str(message.get("From", sender)),
                to=list(recipients),
                subject=str(message.get("Subject", "(sem assunto)")),
                text=text,
                html=html,
                links=list(dict.fromkeys(LINK_RE.findall(text))),
            )
            self._messages.appendleft(caught)
        return caught

    def all(self) -> list[Caught]:
        with self._lock:
            return list(self._messages)

    def get(self, message_id: int) -> Caught | None:
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)


class SMTPHandler:
    """aiosmtpd handler: keep every message, print its links."""

    def __init__(self, mailbox: Mailbox, echo: bool = True):
        self.mailbox = mailbox
        self.echo = echo

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        caught = self.mailbox.add(envelope.content, envelope.mail_from, envelope.rcpt_tos)
        if self.echo:
            to = ", ".join(caught.to)
            print(f"[caixa de e-mails] para {to}: {caught.subject}", flush=True)
            for link in caught.links:
                print(f"    {link}", flush=True)
        return "250 Message accepted for delivery"


PAGE = """<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 52rem; padding: 1rem;
       color: #212529; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #dee2e6; padding: .5rem; text-align: left;
          vertical-align: top; }}
pre {{ white-space: pre-wrap; word-break: break-word; background: #f8f9fa; padding: 1rem; }}
.muted {{ color: #6c757d; font-size: .875rem; }}
a.button {{ display: inline-block; background: #0d6efd; color: #fff; padding: .5rem .75rem;
            border-radius: .375rem; text-decoration: none; margin: .25rem 0;
            word-break: break-all; }}
</style></head><body>{body}</body></html>"""


def _page(title: str, body: str) -> Response:
    response = Response(PAGE.format(title=escape(title), body=body), mimetype="text/html")
    # Message content is untrusted: no scripts, no third-party requests from this page.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _linkified(text: str) -> Markup:
    parts, last = [], 0
    for match in LINK_RE.finditer(text):
        parts.append(escape(text[last : match.start()]))
        url = match.group(0)
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


class MailboxApp:
    """The web side: ``/`` lists the messages, ``/<id>`` opens one, ``/<id>/html`` its HTML."""

    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox
        self.urls = Map(
            [
                Rule("/", endpoint="index"),
                Rule("/<int:message_id>", endpoint="message"),
                Rule("/<int:message_id>/html", endpoint="html"),
            ]
        )

    def index(self, request: Request) -> Response:
        messages = self.mailbox.all()
        if not messages:
            rows = (
                "<p>Nenhum e-mail recebido ainda. "
                "Os e-mails que o Vendas Hub enviar aparecem aqui.</p>"
            )
        else:
            items = "".join(
                Markup(
                    "<tr><td>{when}</td><td>{to}</td><td><a href='/{id}'>{subject}</a></td></tr>"
                ).format(
                    when=m.received_at.astimezone().strftime("%d/%m/%Y %H:%M:%S"),
                    to=", ".join(m.to),
                    id=m.id,
                    subject=m.subject,
                )
                for m in messages
            )
            rows = (
                "<table><thead><tr><th>Recebido</th><th>Para</th><th>Assunto</th></tr></thead>"
                f"<tbody>{items}</tbody></table>"
            )
        body = (
            "<h1>Caixa de e-mails da demonstração</h1>"
            "<p class='muted'>E-mails que o Vendas Hub enviou nesta demonstração. Nada sai deste "
            "computador. Recarregue a página para ver os novos.</p>" + rows
        )
        return _page("Caixa de e-mails", body)

    def message(self, request: Request, message_id: int) -> Response:
        m = self.mailbox.get(message_id)
        if m is None:
            raise NotFound()
        buttons = Markup("").join(
            Markup("<p><a class='button' href='{0}'>Abrir {0}</a></p>").format(link)
            for link in m.links
        )
        html_link = (
            Markup("<p><a href='/{0}/html'>Ver a versão HTML do e-mail</a></p>").format(m.id)
            if m.html
            else ""
        )
        body = Markup(
            "<p><a href='/'>&larr; Todos os e-mails</a></p><h1>{subject}</h1>"
            "<p class='muted'>De {sender} para {to} · {when}</p>{buttons}<pre>{text}</pre>{html}"
        ).format(
            subject=m.subject,
            sender=m.sender,
            to=", ".join(m.to),
            when=m.received_at.astimezone().strftime("%d/%m/%Y %H:%M:%S"),
            buttons=buttons,
            text=_linkified(m.text),
            html=html_link,
        )
        return _page(m.subject, body)

    def html(self, request: Request, message_id: int) -> Response:
        m = self.mailbox.get(message_id)
        if m is None or not m.html:
            raise NotFound()
        response = Response(m.html, mimetype="text/html")
        # Shown as the buyer's mail program would: no scripts, nothing fetched from elsewhere.
        response.headers["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def __call__(self, environ, start_response):
        request = Request(environ)
        adapter = self.urls.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
            response = getattr(self, endpoint)(request, **values)
        except NotFound as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)


def start_smtp(mailbox: Mailbox, host: str, port: int, echo: bool = True):
    """Start the SMTP side in its own thread; returns the aiosmtpd controller (``.stop()``)."""
    from aiosmtpd.controller import Controller

    controller = Controller(SMTPHandler(mailbox, echo), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator.mailbox",
        description="Local SMTP mail catcher with a web page to read what was sent.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=5056)
    args = parser.parse_args(argv)
    mailbox = Mailbox()
    controller = start_smtp(mailbox, args.host, args.smtp_port)
    from werkzeug.serving import run_simple

    print(
        f"[caixa de e-mails] SMTP em {args.host}:{args.smtp_port}, "
        f"leitura em http://{args.host}:{args.http_port}/",
        flush=True,
    )
    try:
        run_simple(args.host, args.http_port, MailboxApp(mailbox), threaded=True)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
