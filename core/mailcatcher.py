"""The demo's mail catcher: a local SMTP sink that keeps every mail, and a page to read them.

`make demo` runs it (`flask mail catch`) so that a newcomer can open the link of a verification
mail without a real mailbox. It listens on the loopback only and is never part of production.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from uuid import uuid4

from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

#: Mails kept by the viewer's list, newest first; older files stay in the folder.
LISTED = 200
_NAME = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}\.eml$")
_URL = re.compile(r"https?://[^\s<>\"']+")


class MailSink:
    """aiosmtpd handler: each mail received becomes one .eml file in `folder`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def keep(self, content: bytes) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{uuid4().hex[:8]}.eml"
        path.write_bytes(content)
        return path

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.keep(envelope.original_content or envelope.content)
        return "250 OK: kept by the demo's mail catcher"


def _read(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain", "html"))
    return body.get_content() if body is not None else ""


def _linked(text: str) -> str:
    """Plain text as HTML: escaped, its web links made clickable (a demo reader clicks them)."""
    out, last = [], 0
    for found in _URL.finditer(text):
        out.append(html.escape(text[last : found.start()]))
        url = html.escape(found.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = found.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:1rem/1.5 system-ui,sans-serif;max-width:48rem;margin:1.5rem auto;padding:0 1rem;
color:#1b1b1b}}table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.4rem;
border-bottom:1px solid #ccc;vertical-align:top}}pre{{white-space:pre-wrap;overflow-wrap:anywhere;
background:#f6f6f6;padding:1rem}}a{{color:#000091}}.note{{color:#3a3a3a}}</style></head>
<body><main>{body}</main></body></html>"""


class MailViewer:
    """A small WSGI app: the list of caught mails, and each one's text with working links."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def mails(self) -> list[Path]:
        found = [p for p in self.folder.glob("*.eml") if _NAME.match(p.name)]
        return sorted(found, reverse=True)[:LISTED]

    def index(self) -> str:
        rows = []
        for path in self.mails():
            message = _read(path)
            at = datetime.strptime(path.name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            rows.append(
                f"<tr><td>{at:%d/%m/%Y %H:%M:%S} UTC</td><td>{html.escape(message['To'] or '')}"
                f'</td><td><a href="/courriel/{path.name}">'
                f"{html.escape(message['Subject'] or '(sans objet)')}</a></td></tr>"
            )
        table = (
            "<table><thead><tr><th>Reçu</th><th>Destinataire</th><th>Objet</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            if rows
            else "<p>Aucun courriel pour l’instant. Créez un compte sur un site de la démo : "
            "le courriel de confirmation arrivera ici (rechargez la page).</p>"
        )
        return _PAGE.format(
            title="Courriels de la démo",
            body="<h1>Courriels de la démo</h1><p class=note>Tous les courriels envoyés par la "
            "démo arrivent ici au lieu d’une vraie boîte : rien ne sort de cette machine.</p>"
            + table,
        )

    def show(self, name: str) -> str:
        path = self.folder / name
        if not _NAME.match(name) or not path.is_file():
            raise NotFound()
        message = _read(path)
        subject = html.escape(message["Subject"] or "(sans objet)")
        head = "".join(
            f"<tr><th>{label}</th><td>{html.escape(message[key] or '')}</td></tr>"
            for label, key in (("De", "From"), ("À", "To"), ("Date", "Date"))
        )
        return _PAGE.format(
            title=subject,
            body=f'<p><a href="/">← Tous les courriels</a></p><h1>{subject}</h1>'
            f"<table>{head}</table><pre>{_linked(_text_of(message))}</pre>",
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            if request.path == "/":
                page = self.index()
            elif request.path.startswith("/courriel/"):
                page = self.show(request.path.removeprefix("/courriel/"))
            else:
                raise NotFound()
            response = Response(page, mimetype="text/html")
        except NotFound:
            response = Response("Courriel introuvable.", status=404, mimetype="text/plain")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response(environ, start_response)


class MailCatcher:
    """The SMTP sink and the viewer together, each on a loopback port, in threads of their own."""

    def __init__(self, folder: Path, smtp_port: int, web_port: int, host: str = "127.0.0.1"):
        self.folder, self.host = Path(folder), host
        self.smtp_port, self.web_port = smtp_port, web_port
        self._controller = self._server = self._thread = None

    def start(self) -> MailCatcher:
        # aiosmtpd is a demo and test dependency, not one of the running platform.
        from aiosmtpd.controller import Controller  # noqa: PLC0415 - demo-only dependency
        from werkzeug.serving import make_server  # noqa: PLC0415 - only when a catcher runs

        self._controller = Controller(
            MailSink(self.folder), hostname=self.host, port=self.smtp_port
        )
        self._controller.start()
        self._server = make_server(self.host, self.web_port, MailViewer(self.folder), threaded=True)
        self.web_port = self._server.server_port  # 0 asked for a free one
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def viewer_url(self) -> str:
        return f"http://{self.host}:{self.web_port}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._server.server_close()
        if self._controller is not None:
            self._controller.stop()
