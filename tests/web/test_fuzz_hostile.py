"""Fuzz campaign (hypothesis) over every public entry point and each form (issue 10).

Webhooks (correctly signed where the case needs it), ``/ativar/<token>`` GET and POST, the
login, setup, password-reset, profile and operator forms, and the operator searches get random
bytes, wrong types, deep nesting, huge strings, invalid UTF-8, NUL bytes, lone surrogates,
duplicate keys and bodies of 1 MiB ± 1. Never a 5xx, never a traceback in the answer, and a
webhook answered 2xx is stored.

Deterministic (``derandomize``, no example database). 200 examples per webhook endpoint and 75
per form endpoint, plus the fixed 1 MiB ± 1 and deep-nesting cases; ``FUZZ_SCALE=5`` runs a
five times larger campaign. Each test prints ``fuzz <endpoint>: N requests, M 5xx`` (``-s``).
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
from tests.conftest import WEBHOOK_SECRETS, Auth, csrf_token, load_fixture, signed_request

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
WEBHOOK_EXAMPLES = max(int(200 * SCALE), 1)
FORM_EXAMPLES = max(int(75 * SCALE), 1)
MIB = 1024 * 1024
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "psycopg.")


@dataclass
class Tally:
    endpoint: str
    requests: int = 0
    server_errors: int = 0

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
}  # fmt: skip


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
    body = load_fixture(platform, draw(st.sampled_from(FIXTURES[platform])))
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


def _send_webhook(client, platform, raw, signed, content_type):
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
    )
    with app.app_context():
        yield app


@pytest.mark.parametrize("platform", ["hotmart", "kiwify", "kirvano"])
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
        if response.status_code == 200:
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
    from app.services import settings as settings_service

    client = fuzz_app.test_client()
    Auth(fuzz_app, client).operator()
    csrf = csrf_token(client, "/ativacoes")
    link_id = db.session.scalar(select(ActivationLink.id))
    _fuzz_form(
        client, "POST", f"/ativacoes/{link_id}/email", ["email", "back"], csrf,
        Tally("POST /ativacoes/<id>/email"),
    )  # fmt: skip
    for group in settings_service.SCHEMA[:1]:
        fields = [f.key for f in group.fields] + [f"clear_{f.key}" for f in group.fields]
        _fuzz_form(
            client, "POST", f"/configuracoes/{group.platform}", fields, csrf,
            Tally("POST /configuracoes/<platform>"),
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
