"""Fuzz campaign (hypothesis) over every public entry point and each form (issue 10).

Webhooks (correctly signed where the case needs it), ``/ativar/<token>`` GET and POST, the
login, setup, password-reset, profile and operator forms, and the operator searches get random
bytes, wrong types, deep nesting, huge strings, invalid UTF-8, NUL bytes, lone surrogates,
duplicate keys and bodies of 1 MiB ± 1. Never a 5xx, never a traceback in the answer, and a
webhook answered 2xx is stored.

Covered: ``/webhook/<platform>`` for Hotmart, Kiwify, Kirvano and Eduzz, ``/webhook/kommo/<token>``
(form-encoded) and ``/webhook/telegram``; the buyer's, member's and operator's forms, among them
the team (``/equipe/*``, ``/convite/<token>``), the access catalogue (``/acessos/*``), the
automations (``/automacoes/*``), every ``/configuracoes/<platform>`` group, the reconciliation's
``/relatorios/vendas-sem-acesso`` and ``/conta/telegram/novo-link``, with ids in the URL past
2³¹ and 2⁶³.

Deterministic (``derandomize``, no example database). 200 examples per webhook endpoint and 75
per form endpoint, plus the fixed 1 MiB ± 1 and deep-nesting cases; ``FUZZ_SCALE=5`` runs a
five times larger campaign. Each test prints ``fuzz <endpoint>: N requests, M 5xx`` (``-s``),
and the run ends with ``fuzz total: N requests over K endpoints, M 5xx`` (always shown).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, WebhookEvent
from app.sources import SOURCES
from tests.conftest import WEBHOOK_SECRETS, Auth, csrf_token, load_fixture, signed_request

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
WEBHOOK_EXAMPLES = max(int(200 * SCALE), 1)
FORM_EXAMPLES = max(int(75 * SCALE), 1)
MIB = 1024 * 1024
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "psycopg.")


TALLIES: list[Tally] = []


@pytest.fixture(scope="module", autouse=True)
def campaign_summary(request):
    """The campaign's total, printed past output capture once the module's tests are done."""
    TALLIES.clear()
    yield
    total = sum(t.requests for t in TALLIES)
    errors = sum(t.server_errors for t in TALLIES)
    endpoints = len({t.endpoint for t in TALLIES})
    line = f"fuzz total: {total} requests over {endpoints} endpoints, {errors} 5xx"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print("\n" + line)


@dataclass
class Tally:
    endpoint: str
    requests: int = 0
    server_errors: int = 0

    def __post_init__(self) -> None:
        TALLIES.append(self)

    def check(self, response) -> None:
        self.requests += 1
        body = response.get_data(as_text=True)
        if response.status_code >= 500:
            self.server_errors += 1
        assert response.status_code < 500, (self.endpoint, response.status_code, body[:500])
        for marker in TRACE_MARKERS:
            assert marker not in body, (self.endpoint, marker, body[:500])

    def report(self) -> None:
        print(f"\nfuzz {self.endpoint}: {self.requests} requests, {self.server_errors} 5xx")


def fuzz(examples: int = FORM_EXAMPLES):
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


# -- strategies ------------------------------------------------------------------------------

SPECIALS = [
    "\x00", "a\x00b", "\ud800", "\udfff", "a\ud800b", "\ufeff", "\u202e", "\r\n", "\t=1+1",
    "=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc",
    "🙂" * 60, "x" * 5000, "null", "true", "1e400", "NaN", "-0", " ", "",
]  # fmt: skip
POISON = ["\x00", "a\x00b", "\ud800", "a\udfff", "\udbff\udbff", "x\x00\ud800"]
BODY_CREDENTIAL = {
    "hotmart": WEBHOOK_SECRETS["HOTMART_WEBHOOK_HOTTOK"],
    "kirvano": WEBHOOK_SECRETS["KIRVANO_WEBHOOK_SECRET"],
}
HUGE_NUMBERS = [2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 10**400]

texts = st.one_of(
    st.sampled_from(SPECIALS),
    st.text(
        st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=40
    ),
    st.text(max_size=12),
)
numbers = st.one_of(
    st.sampled_from(HUGE_NUMBERS),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)
    ),
    max_leaves=12,
)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates as (invalid) CESU bytes


# -- webhooks --------------------------------------------------------------------------------

FIXTURES = {
    "hotmart": ["purchase_approved", "purchase_approved_renewal", "purchase_refunded",
                "subscription_cancellation", "purchase_billet_printed"],
    "kiwify": ["order_approved", "order_refunded", "subscription_renewed", "abandoned_cart",
               "chargeback"],
    "kirvano": ["sale_approved", "sale_refunded", "subscription_renewed", "abandoned_cart",
                "pix_generated"],
    "eduzz": ["invoice_paid", "invoice_paid_order_bump", "invoice_refunded",
              "contract_updated_canceled", "cart_abandonment", "legacy_platform_test"],
}  # fmt: skip
TG_USER = {"id": 555, "is_bot": False, "first_name": "Ana", "username": "ana"}
TG_CHAT = {"id": -1001234567890, "type": "supergroup", "title": "Alunos"}
TELEGRAM_UPDATES = [
    {
        "update_id": 10,
        "chat_member": {
            "chat": TG_CHAT,
            "from": TG_USER,
            "date": 1748268669,
            "old_chat_member": {"user": TG_USER, "status": "left"},
            "new_chat_member": {"user": TG_USER, "status": "member"},
            "invite_link": {
                "invite_link": "https://t.me/+AbCdEf123",
                "creator": {"id": 1, "is_bot": True, "first_name": "Bot"},
                "creates_join_request": False,
                "is_primary": False,
                "is_revoked": False,
                "member_limit": 1,
            },
        },
    },
    {
        "update_id": 11,
        "chat_member": {
            "chat": TG_CHAT,
            "from": TG_USER,
            "date": 1748268700,
            "old_chat_member": {"user": TG_USER, "status": "member"},
            "new_chat_member": {"user": TG_USER, "status": "kicked", "until_date": 0},
        },
    },
    {
        "update_id": 12,
        "message": {"message_id": 1, "from": TG_USER, "chat": TG_CHAT, "date": 1748268669,
                    "text": "/start"},
    },
]  # fmt: skip


def _base(platform: str, name) -> dict:
    if platform == "telegram":
        return json.loads(json.dumps(TELEGRAM_UPDATES[name]))
    return load_fixture(platform, name)


def _bases(platform: str) -> list:
    return list(range(len(TELEGRAM_UPDATES))) if platform == "telegram" else FIXTURES[platform]


def _paths(node, prefix=()):
    """Every key path of a fixture, so mutations land on the fields the parsers read."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _replace(node, path, value):
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@st.composite
def mutated_fixture(draw, platform: str) -> bytes:
    body = _base(platform, draw(st.sampled_from(_bases(platform))))
    paths = list(_paths(body))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        try:
            _replace(body, path, draw(json_values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
        paths = list(_paths(body))
    poison = draw(st.booleans())
    if poison:  # NUL / a lone surrogate in a field the parser reads, escaped as platforms do
        path = draw(st.sampled_from(paths))
        try:
            _replace(body, path, draw(st.sampled_from(POISON)))
        except (KeyError, IndexError, TypeError):
            pass
    if draw(st.booleans()):  # a credential repeated in the body: the redaction re-serializes
        key = draw(st.sampled_from(["hottok", "token"]))
        body[key] = draw(st.one_of(texts, st.just(BODY_CREDENTIAL.get(platform, "x"))))
    ensure_ascii = poison or draw(st.booleans())
    return json.dumps(body, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


def _deep(depth: int, opener: str = "[") -> str:
    if opener == "{":
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + "]" * depth


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            b"{}",
            b"[]",
            b"null",
            b'{"a":1,"a":2,"event":"PURCHASE_APPROVED","event":"x"}',
            b'{"hottok":"a","hottok":"b","token":1,"token":[]}',
            b'{"data": "\xff\xfe"}',
            b'{"x": "\\ud800", "token": "t"}',
            b'{"x": "\x00"}',
            b'{"x": "\\u0000", "hottok": "h"}',
            b"\xef\xbb\xbf{}",
            b'{"a": NaN, "b": Infinity}',
            b'{"n": 1' + b"0" * 5000 + b"}",
            _deep(50_000).encode(),
            _deep(2_000, "{").encode(),
            b'{"big": "' + b"A" * 200_000 + b'"}',
        ]
    ),
    json_values.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
)


@st.composite
def webhook_case(draw, platform: str):
    raw = draw(st.one_of(mutated_fixture(platform), mutated_fixture(platform), raw_bodies))
    signed = draw(st.sampled_from(["signed", "signed", "signed", "unsigned", "wrong"]))
    content_type = draw(
        st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain",
             "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
        )
    )  # fmt: skip
    return raw, signed, content_type


TELEGRAM_SECRET = "tg-fuzz-secret-0123456789"
KOMMO_TOKEN = "kommo-fuzz-token-0123456789abcdef"


def _send_webhook(client, platform, raw, signed, content_type):
    if platform == "telegram":
        secret = {"signed": TELEGRAM_SECRET, "wrong": "wrong-secret"}.get(signed)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        if content_type:
            headers["Content-Type"] = content_type
        return client.post("/webhook/telegram", data=raw, headers=headers)
    if platform == "kommo":
        token = {"signed": KOMMO_TOKEN, "wrong": "wrong-token"}.get(signed, "")
        headers = {"Content-Type": content_type} if content_type else {}
        return client.post(f"/webhook/kommo/{token or '%00'}", data=raw, headers=headers)
    auth = {"headers": {}, "query_string": {}}
    if signed == "signed":
        auth = signed_request(platform, raw)
    elif signed == "wrong":
        auth = signed_request(platform, raw, secret="wrong-secret")
    headers = {**auth["headers"]}
    if content_type:
        headers["Content-Type"] = content_type
    return client.post(
        f"/webhook/{platform}", data=raw, headers=headers, query_string=auth["query_string"]
    )


def _events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(WebhookEvent.id)))


@pytest.fixture
def fuzz_app(app_factory):
    # Limits far above the campaign (RATELIMIT_ENABLED=False would stick to the shared limiter).
    unlimited = "1000000 per minute"
    app = app_factory(
        **WEBHOOK_SECRETS,
        WEBHOOK_RATE_LIMIT=unlimited,
        LOGIN_LIMIT_PER_IP=unlimited,
        LOGIN_LIMIT_PER_ACCOUNT=unlimited,
        PASSWORD_RESET_LIMIT=unlimited,
        ACTIVATION_RESEND_LIMIT=unlimited,
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        KOMMO_WEBHOOK_SECRET=KOMMO_TOKEN,
    )
    with app.app_context():
        yield app


@pytest.mark.parametrize("platform", ["hotmart", "kiwify", "kirvano", "eduzz", "telegram"])
def test_fuzz_webhooks(fuzz_app, platform):
    client = fuzz_app.test_client()
    tally = Tally(f"POST /webhook/{platform}")

    @fuzz(WEBHOOK_EXAMPLES)
    @given(webhook_case(platform))
    def run(case):
        before = _events()
        response = _send_webhook(client, platform, *case)
        tally.check(response)
        if response.status_code == 200 and response.json.get("status") in ("accepted", "ignored"):
            assert _events() == before + 1, "answered 2xx without storing"
        if response.status_code == 200 and response.json.get("success") is False:
            # Eduzz's refused events are answered 200 (``invalid_event_status``): stored failed
            # as a new row, or recognised as a delivery of an event stored already
            assert SOURCES[platform].invalid_event_status == 200, response.json
            assert response.json["error"]["code"] == "invalid_event"
            assert _events() in (before, before + 1)
        elif response.status_code == 200:
            assert response.json.get("status") in ("accepted", "ignored", "duplicate")

    run()
    for size in (MIB - 1, MIB, MIB + 1):  # 1 MiB ± 1, valid signed JSON of exactly that size
        head = b'{"event":"PURCHASE_APPROVED","pad":"'
        raw = head + b"x" * (size - len(head) - 2) + b'"}'
        assert len(raw) == size
        response = _send_webhook(client, platform, raw, "signed", "application/json")
        tally.check(response)
        assert (response.status_code == 413) == (size > MIB), (size, response.status_code)
    for depth in (500, 900, 990, 1000, 1100, 5000):  # nesting around the recursion limit
        raw = ('{"hottok":"h","token":"t","x":' + _deep(depth) + "}").encode()
        tally.check(_send_webhook(client, platform, raw, "signed", "application/json"))
    tally.report()
    assert tally.server_errors == 0


# -- forms -----------------------------------------------------------------------------------


@st.composite
def form_body(draw, fields: list[str], csrf: str):
    """An urlencoded body (mostly), with duplicate keys, invalid UTF-8, NUL and huge values."""
    kind = draw(st.sampled_from(["form"] * 6 + ["json", "bytes", "multipart", "huge", "empty"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode("utf-8", "surrogatepass"), "application/json"
    if kind == "bytes":
        return draw(st.binary(max_size=200)), "application/x-www-form-urlencoded"
    if kind == "empty":
        return b"", "application/x-www-form-urlencoded"
    if kind == "multipart":
        name = draw(st.sampled_from(fields))
        body = (
            b"--b\r\nContent-Disposition: form-data; name=\"" + name.encode() + b'"\r\n\r\n'
            + _encode(draw(texts)) + b"\r\n--b\r\nContent-Disposition: form-data; "
            b'name="csrf_token"\r\n\r\n' + csrf.encode() + b"\r\n--b--\r\n"
        )  # fmt: skip
        return body, "multipart/form-data; boundary=b"
    pairs = []
    if draw(st.integers(0, 9)) > 0:
        pairs.append(("csrf_token", csrf.encode()))
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.one_of(st.sampled_from(fields), texts))
        value = draw(st.one_of(texts.map(_encode), st.binary(max_size=40)))
        pairs.append((key, value))
    if kind == "huge":
        pairs.append(
            (draw(st.sampled_from(fields)), b"A" * draw(st.sampled_from([10**4, 2 * 10**5])))
        )
    body = "&".join(f"{quote_from_bytes(_encode(k))}={quote_from_bytes(v)}" for k, v in pairs)
    return body.encode(), "application/x-www-form-urlencoded"


def _fuzz_form(client, method: str, path: str, fields: list[str], csrf: str, tally: Tally):
    @fuzz()
    @given(form_body(fields, csrf), st.booleans())
    def run(case, with_query):
        body, content_type = case
        query = "?next=%00&q=%ED%A0%80" if with_query else ""
        tally.check(
            client.open(
                path + query, method=method, data=body, headers={"Content-Type": content_type}
            )
        )

    run()
    for size in (MIB - 1, MIB, MIB + 1):
        head = f"csrf_token={csrf}&{fields[0]}=".encode()
        response = client.open(
            path,
            method=method,
            data=head + b"x" * (size - len(head)),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        tally.check(response)
        if size > MIB:
            assert response.status_code == 413
    tally.report()
    assert tally.server_errors == 0


def _token_from_outbox(pattern: str) -> str:
    db.session.rollback()
    for email in db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())):
        match = re.search(pattern, email.body_text)
        if match:
            return match.group(1)
    raise AssertionError("no token e-mailed")


@pytest.fixture
def activation_token(fuzz_app):
    client = fuzz_app.test_client()
    raw = json.dumps(load_fixture("hotmart", "purchase_approved")).encode()
    assert _send_webhook(client, "hotmart", raw, "signed", "application/json").status_code == 200
    return _token_from_outbox(r"/ativar/([A-Za-z0-9_-]+)")


def test_fuzz_activation_form(fuzz_app, activation_token):
    client = fuzz_app.test_client()
    path = f"/ativar/{activation_token}"
    csrf = csrf_token(client, path)
    _fuzz_form(
        client, "POST", path, ["name", "password", "password_confirm"], csrf,
        Tally("POST /ativar/<token>"),
    )  # fmt: skip


def test_fuzz_activation_get_and_resend(fuzz_app, activation_token):
    client = fuzz_app.test_client()
    get_tally = Tally("GET /ativar/<token>")
    resend_tally = Tally("POST /ativar/<token>/reenviar")
    csrf = csrf_token(client, f"/ativar/{activation_token}")
    tokens = st.one_of(
        st.just(activation_token),
        st.just(activation_token[:-1]),
        st.just(activation_token + "A"),
        texts.filter(bool).map(lambda t: quote_from_bytes(_encode(t), safe="")),
        st.binary(min_size=1, max_size=80).map(lambda b: quote_from_bytes(b, safe="")),
        st.sampled_from(["%00", "a%00", "%ED%A0%80", "x" * 5000, "..", "%2F"]),
    )

    @fuzz()
    @given(tokens, st.binary(max_size=40))
    def run(token, query):
        get_tally.check(client.get(f"/ativar/{token}?{quote_from_bytes(query)}"))
        resend_tally.check(client.post(f"/ativar/{token}/reenviar", data={"csrf_token": csrf}))

    run()
    get_tally.report()
    resend_tally.report()
    assert get_tally.server_errors == resend_tally.server_errors == 0


def test_fuzz_login_and_password_reset_forms(fuzz_app):
    client = fuzz_app.test_client()
    auth = Auth(fuzz_app, client)
    auth.create()
    auth.create(email="membro@example.com", role="member", name="Bia")
    csrf = csrf_token(client, "/login")
    _fuzz_form(client, "POST", "/login", ["email", "password"], csrf, Tally("POST /login"))
    _fuzz_form(client, "POST", "/esqueci-senha", ["email"], csrf, Tally("POST /esqueci-senha"))
    client.post("/esqueci-senha", data={"email": "membro@example.com", "csrf_token": csrf})
    token = _token_from_outbox(r"/redefinir-senha/([A-Za-z0-9_-]+)")
    _fuzz_form(
        client, "POST", f"/redefinir-senha/{token}", ["password", "password_confirm"], csrf,
        Tally("POST /redefinir-senha/<token>"),
    )  # fmt: skip


def test_fuzz_setup_form(fuzz_app):
    client = fuzz_app.test_client()
    csrf = csrf_token(client, "/setup")
    fields = ["name", "email", "password", "password_confirm"]
    _fuzz_form(client, "POST", "/setup", fields, csrf, Tally("POST /setup"))


def test_fuzz_member_forms(fuzz_app):
    client = fuzz_app.test_client()
    Auth(fuzz_app, client).member()
    csrf = csrf_token(client, "/conta")
    _fuzz_form(client, "POST", "/conta/perfil", ["name"], csrf, Tally("POST /conta/perfil"))
    fields = ["current_password", "password", "password_confirm"]
    _fuzz_form(client, "POST", "/conta/senha", fields, csrf, Tally("POST /conta/senha"))


def test_fuzz_operator_forms_and_searches(fuzz_app, activation_token):
    from app.models import ActivationLink
    from app.services import jobs as jobs_service

    client = fuzz_app.test_client()
    Auth(fuzz_app, client).operator()
    csrf = csrf_token(client, "/ativacoes")
    link_id = db.session.scalar(select(ActivationLink.id))
    _fuzz_form(
        client, "POST", f"/ativacoes/{link_id}/email", ["email", "back"], csrf,
        Tally("POST /ativacoes/<id>/email"),
    )  # fmt: skip
    jobs = [
        f"{kind}-{job.id}" for job in jobs_service.catalogue() for kind in ("interval", "enabled")
    ]
    _fuzz_form(
        client, "POST", "/configuracoes/agendamentos", jobs, csrf,
        Tally("POST /configuracoes/agendamentos"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", "/webhooks/teste", ["platform", "event", "email"], csrf,
        Tally("POST /webhooks/teste"),
    )  # fmt: skip

    tally = Tally("GET operator searches")
    pages = ["/ativacoes", "/vendas", "/webhooks", "/sincronizacoes", "/relatorios",
             "/ativacoes/exportar.csv", "/api/kommo/contacts", "/api/sync-runs"]  # fmt: skip
    keys = ["q", "status", "platform", "product", "page", "de", "ate", "dias", "limit", "query"]

    @fuzz()
    @given(
        st.sampled_from(pages),
        st.lists(
            st.tuples(st.sampled_from(keys), st.one_of(texts.map(_encode), st.binary(max_size=30))),
            max_size=4,
        ),
    )
    def run(page, pairs):
        query = "&".join(f"{k}={quote_from_bytes(v)}" for k, v in pairs)
        tally.check(client.get(f"{page}?{query}"))

    run()
    tally.report()
    assert tally.server_errors == 0


# -- Kommo's form-encoded webhook -------------------------------------------------------------

KOMMO_BASE = [
    ("account[subdomain]", "vendashub"),
    ("account[id]", "32720107"),
    ("leads[add][0][id]", "9001"),
    ("leads[add][0][name]", "Curso - Ana"),
    ("leads[add][0][status_id]", "142"),
    ("leads[add][0][price]", "997"),
    ("leads[add][0][pipeline_id]", "9621010"),
    ("leads[add][0][created_at]", "1748268669"),
    ("leads[add][0][updated_at]", "1748268700"),
    ("contacts[update][0][id]", "7001"),
    ("contacts[update][0][name]", "Ana Souza"),
    ("contacts[update][0][custom_fields][1][code]", "EMAIL"),
    ("contacts[update][0][custom_fields][1][values][0][value]", "ana@example.com"),
    ("contacts[update][0][updated_at]", "1748292937"),
    ("leads[delete][0][id]", "9002"),
]
KOMMO_KEYS = [k for k, _ in KOMMO_BASE] + [
    "leads[status][0][id]", "leads[add][0][custom_fields][0][values][0][value]",
    "leads[add][x][id]", "leads[add][0]", "leads", "contacts[add][0][id]", "account", "[",
    "leads[add][0][id][]", "unsorted[add][0][uid]",
]  # fmt: skip


@st.composite
def kommo_case(draw):
    """Kommo's ``application/x-www-form-urlencoded`` deliveries, mutated; or a raw body."""
    if draw(st.integers(0, 4)) == 0:
        raw = draw(raw_bodies)
    else:
        pairs = [(k, v.encode()) for k, v in KOMMO_BASE]
        for _ in range(draw(st.integers(1, 5))):
            value = draw(
                st.one_of(
                    texts.map(_encode),
                    st.sampled_from(HUGE_NUMBERS).map(lambda n: str(n).encode()),
                    st.sampled_from(POISON).map(_encode),
                    st.binary(max_size=20),
                )
            )
            if draw(st.booleans()):
                pairs[draw(st.integers(0, len(pairs) - 1))] = (
                    pairs[draw(st.integers(0, len(pairs) - 1))][0],
                    value,
                )
            else:  # a new or repeated key (a duplicate key, a list where a scalar was)
                pairs.append((draw(st.one_of(st.sampled_from(KOMMO_KEYS), texts)), value))
        raw = "&".join(
            f"{quote_from_bytes(_encode(k))}={quote_from_bytes(v)}" for k, v in pairs
        ).encode()
    signed = draw(st.sampled_from(["signed", "signed", "signed", "unsigned", "wrong"]))
    content_type = draw(
        st.sampled_from(
            ["application/x-www-form-urlencoded"] * 3
            + ["application/json", "multipart/form-data; boundary=x", "text/plain", ""]
        )
    )
    return raw, signed, content_type


def test_fuzz_kommo_webhook(fuzz_app):
    client = fuzz_app.test_client()
    tally = Tally("POST /webhook/kommo/<token>")

    @fuzz(WEBHOOK_EXAMPLES)
    @given(kommo_case())
    def run(case):
        before = _events()
        response = _send_webhook(client, "kommo", *case)
        tally.check(response)
        if response.status_code == 200 and response.json.get("status") in ("accepted", "ignored"):
            assert _events() == before + 1, "answered 2xx without storing"

    run()
    for size in (MIB - 1, MIB, MIB + 1):
        head = b"account[id]=1&leads[add][0][name]="
        raw = head + b"x" * (size - len(head))
        response = _send_webhook(
            client, "kommo", raw, "signed", "application/x-www-form-urlencoded"
        )
        tally.check(response)
        assert (response.status_code == 413) == (size > MIB), (size, response.status_code)
    for token in ("%00", "%ED%A0%80", "x" * 5000, KOMMO_TOKEN + "%00"):
        tally.check(client.post(f"/webhook/kommo/{token}", data=b"account[id]=1"))
    tally.report()
    assert tally.server_errors == 0


# -- the later operator and member forms ------------------------------------------------------

HUGE_IDS = ["0", "-1", str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), str(10**30)]


def _fuzz_ids(client, method: str, template: str, csrf: str, tally: Tally) -> None:
    """``template`` (one ``{}``) with ids past the 32- and 64-bit columns: never a 5xx."""
    for raw_id in HUGE_IDS:
        tally.check(client.open(template.format(raw_id), method=method, data={"csrf_token": csrf}))


def _owner(app, client) -> int:
    from app.models import User

    Auth(app, client).operator()
    return db.session.scalar(select(User.id).where(User.email == "operador@example.com"))


def test_fuzz_team_forms_and_invite_acceptance(fuzz_app):
    from app.models import OPERATOR_OPERATOR, User
    from app.services import accounts, team

    client = fuzz_app.test_client()
    owner = db.session.get(User, _owner(fuzz_app, client))
    colleague = accounts.create_operator(
        "colega@example.com", "senha-segura-123", name="Caio", operator_role=OPERATOR_OPERATOR
    )
    issued = team.invite("convidada@example.com", OPERATOR_OPERATOR, by=owner)
    db.session.commit()
    colleague_id, invite_id = colleague.id, issued.invite.id
    token = issued.url.rstrip("/").rsplit("/", 1)[-1]
    csrf = csrf_token(client, "/equipe")

    # The invitee's page first (a valid submission uses the invite up).
    guest = fuzz_app.test_client()
    accept = f"/convite/{token}"
    guest_csrf = csrf_token(guest, accept)
    _fuzz_form(
        guest, "POST", accept, ["name", "password", "password_confirm"], guest_csrf,
        Tally("POST /convite/<token>"),
    )  # fmt: skip
    tokens = Tally("GET /convite/<token>")
    for bad in ("%00", "%ED%A0%80", "x" * 5000, token[:-1], token + "A", "..%2F"):
        tokens.check(guest.get(f"/convite/{bad}"))
    assert tokens.server_errors == 0

    _fuzz_form(
        client, "POST", "/equipe/convites", ["email", "role"], csrf,
        Tally("POST /equipe/convites"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", f"/equipe/{colleague_id}/papel", ["role"], csrf,
        Tally("POST /equipe/<id>/papel"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", f"/equipe/convites/{invite_id}/cancelar", ["confirm"], csrf,
        Tally("POST /equipe/convites/<id>/cancelar"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", f"/equipe/{colleague_id}/remover", ["confirm"], csrf,
        Tally("POST /equipe/<id>/remover"),
    )  # fmt: skip
    ids = Tally("POST /equipe/<huge id>/*")
    for template in ("/equipe/{}/papel", "/equipe/{}/remover", "/equipe/convites/{}/cancelar"):
        _fuzz_ids(client, "POST", template, csrf, ids)
    assert ids.server_errors == 0


def test_fuzz_access_catalogue_forms(fuzz_app):
    from tests.access_kit import make_item, make_rule, make_sale

    client = fuzz_app.test_client()
    _owner(fuzz_app, client)
    make_sale("hotmart", "HPFUZZ1", "4962378", "Curso Exemplo")
    item = make_item("Área de membros")
    rule = make_rule("hotmart", "4962378", item, name="Curso Exemplo")
    db.session.commit()
    item_id, rule_id = item.id, rule.id
    csrf = csrf_token(client, "/acessos")
    item_fields = ["kind", "title", "url", "chat_id", "instructions"]
    rule_fields = ["product", "offer_code", "priority", "items"]
    _fuzz_form(client, "POST", "/acessos/itens", item_fields, csrf, Tally("POST /acessos/itens"))
    _fuzz_form(
        client, "POST", f"/acessos/itens/{item_id}", item_fields, csrf,
        Tally("POST /acessos/itens/<id>"),
    )  # fmt: skip
    _fuzz_form(client, "POST", "/acessos/regras", rule_fields, csrf, Tally("POST /acessos/regras"))
    _fuzz_form(
        client, "POST", f"/acessos/regras/{rule_id}", rule_fields, csrf,
        Tally("POST /acessos/regras/<id>"),
    )  # fmt: skip
    ids = Tally("GET|POST /acessos/*/<huge id>")
    for template in ("/acessos/itens/{}", "/acessos/regras/{}"):
        _fuzz_ids(client, "GET", template, csrf, ids)
        _fuzz_ids(client, "POST", template, csrf, ids)
        _fuzz_ids(client, "POST", template + "/excluir", csrf, ids)
    _fuzz_form(
        client, "POST", f"/acessos/regras/{rule_id}/excluir", ["confirm"], csrf,
        Tally("POST /acessos/regras/<id>/excluir"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", f"/acessos/itens/{item_id}/excluir", ["confirm"], csrf,
        Tally("POST /acessos/itens/<id>/excluir"),
    )  # fmt: skip
    assert ids.server_errors == 0


def test_fuzz_automation_forms(fuzz_app):
    from app.automations.gestao_click import GC_MAPPING_KEYS
    from app.automations.routes import MAPPING_KEYS
    from app.models import AutomationDelivery

    # Nothing here may reach a real API: the addresses point at a closed local port.
    fuzz_app.config["KOMMO_API_URL"] = "http://127.0.0.1:9"
    fuzz_app.config["GESTAOCLICK_API_URL"] = "http://127.0.0.1:9"
    client = fuzz_app.test_client()
    _owner(fuzz_app, client)
    failed = AutomationDelivery(
        target="kommo",
        step="contact_lead",
        dedupe_key="kommo:contact_lead:fuzz",
        buyer_email="ana@example.com",
        payload={"buyer_email": "ana@example.com"},
        status="failed",
        last_error="recusado",
    )
    db.session.add(failed)
    db.session.commit()
    csrf = csrf_token(client, "/automacoes")
    _fuzz_form(
        client, "POST", f"/automacoes/{failed.id}/retry", ["status"], csrf,
        Tally("POST /automacoes/<id>/retry"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", "/automacoes/retry-failed", ["status"], csrf,
        Tally("POST /automacoes/retry-failed"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", "/automacoes/vendas-anteriores", ["periodo", "destino"], csrf,
        Tally("POST /automacoes/vendas-anteriores"),
    )  # fmt: skip
    ids = Tally("POST /automacoes/<huge id>/retry")
    _fuzz_ids(client, "POST", "/automacoes/{}/retry", csrf, ids)
    assert ids.server_errors == 0
    _fuzz_form(
        client, "POST", "/automacoes/kommo", ["enabled", *MAPPING_KEYS], csrf,
        Tally("POST /automacoes/kommo"),
    )  # fmt: skip
    _fuzz_form(
        client, "POST", "/automacoes/gestao-click", ["enabled", *GC_MAPPING_KEYS], csrf,
        Tally("POST /automacoes/gestao-click"),
    )  # fmt: skip
    pages = Tally("GET /automacoes")
    for path in ("/automacoes", "/automacoes/vendas-anteriores?periodo=%00&destino=%ED%A0%80"):
        pages.check(client.get(path))
    assert pages.server_errors == 0


def test_fuzz_every_settings_group(fuzz_app):
    from app.services import settings as settings_service

    client = fuzz_app.test_client()
    _owner(fuzz_app, client)
    csrf = csrf_token(client, "/configuracoes")
    for group in settings_service.SCHEMA:
        fields = [f.key for f in group.fields] + [f"clear_{f.key}" for f in group.fields]
        _fuzz_form(
            client, "POST", f"/configuracoes/{group.platform}", fields, csrf,
            Tally(f"POST /configuracoes/{group.platform}"),
        )  # fmt: skip


def test_fuzz_reconciliation_send_links(fuzz_app, activation_token):
    client = fuzz_app.test_client()
    _owner(fuzz_app, client)
    csrf = csrf_token(client, "/relatorios")
    _fuzz_form(
        client, "POST", "/relatorios/vendas-sem-acesso",
        ["dias", "periodo", "de", "ate", "all", "transaction_ids"], csrf,
        Tally("POST /relatorios/vendas-sem-acesso"),
    )  # fmt: skip


def test_fuzz_member_telegram_link(fuzz_app):
    fuzz_app.config.update(TELEGRAM_BOT_TOKEN="123:fuzz", TELEGRAM_API_URL="http://127.0.0.1:9")
    client = fuzz_app.test_client()
    Auth(fuzz_app, client).member()
    csrf = csrf_token(client, "/conta")
    _fuzz_form(
        client, "POST", "/conta/telegram/novo-link", ["chat"], csrf,
        Tally("POST /conta/telegram/novo-link"),
    )  # fmt: skip
