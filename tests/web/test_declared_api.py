"""The integrations' JSON routes come from their declarations (``app/api/declared.py``)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint

from app.api.declared import register
from app.extensions import db
from app.models import Product
from app.registry import INTEGRATIONS, ApiList, ApiSync, ApiTest, integration
from app.security import require_operator
from tests.conftest import Auth, csrf_token


def _rules(app) -> dict[tuple[str, str], str]:
    return {
        (rule.rule, method): rule.endpoint
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_declared_route_is_served_under_its_endpoint(app):
    rules = _rules(app)
    declared = 0
    for integ in INTEGRATIONS:
        specs = [(s, "GET") for s in integ.api_lists] + [(s, "POST") for s in integ.api_syncs]
        if integ.api_test:
            specs.append((integ.api_test, integ.api_test.method.upper()))
        for spec, method in specs:
            assert rules[(integ.api_prefix + spec.path, method)] == f"api.{spec.endpoint}"
            declared += 1
    assert declared == 15  # 3 tests, 6 lists, 6 sync starts


# A new integration's declaration: Hotmart's settings and syncers behind a new prefix.
FAKE = replace(
    integration("hotmart"),
    api_prefix="/api/nova",
    api_test=ApiTest("/ping", "nova_test", method="put"),
    api_lists=(
        ApiList(
            "/itens",
            "nova_items",
            "app.services.hotmart_queries:products_query",
            ("item encontrado", "itens encontrados"),
            args=(("query", ""), ("sort", "name"), ("dir", "asc")),
            max_limit=2,
        ),
    ),
    api_syncs=(ApiSync("/sync", "nova_sync", ("products", "sales"), "sales", choosable=True),),
)


def _app_with_fake(app_factory):
    bp = Blueprint("nova_api", __name__)
    bp.before_request(require_operator)
    register(bp, (FAKE,))
    app = app_factory()
    app.register_blueprint(bp)
    return app


def test_a_declared_list_answers_the_shared_envelope_behind_login(app_factory):
    app = _app_with_fake(app_factory)
    client = app.test_client()
    with app.app_context():
        for n, name in enumerate(("Curso Alfa", "Curso Beta", "Mentoria Gama")):
            db.session.add(Product(platform="hotmart", remote_id=str(n + 1), name=name))
        db.session.commit()
    assert client.get("/api/nova/itens").status_code != 200  # no operator signed in
    Auth(app, client).operator()

    body = client.get("/api/nova/itens?query=curso&limit=2").get_json()
    assert [i["name"] for i in body["items"]] == ["Curso Alfa", "Curso Beta"]
    assert body["total"] == 2 and body["message"] == "2 itens encontrados"
    assert body["pagination"] == {"page": 1, "limit": 2, "pageCount": 1, "total": 2}

    body = client.get("/api/nova/itens?query=gama").get_json()
    assert body["message"] == "1 item encontrado"

    too_many = client.get("/api/nova/itens?limit=3")
    assert too_many.status_code == 400
    assert "limit" in too_many.get_json()["error"]["message"]


def test_a_declared_sync_refuses_an_unknown_resource_in_words(app_factory):
    app = _app_with_fake(app_factory)
    client = app.test_client()
    Auth(app, client).operator()
    csrf = csrf_token(client, "/")
    answer = client.post(
        "/api/nova/sync", json={"resource": "pedidos"}, headers={"X-CSRFToken": csrf}
    )
    assert answer.status_code == 400
    assert "products, sales" in answer.get_json()["error"]["message"]
    # Not configured: the start is refused as the shared start refuses it (409), not a 500.
    answer = client.post("/api/nova/sync", json={}, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 409
    answer = client.put("/api/nova/ping", headers={"X-CSRFToken": csrf})
    assert answer.status_code == 200 and answer.get_json()["success"] is False


def test_odd_digits_and_dates_are_answered_not_crashed_on(client, auth):
    """Superscript digits are not decimal digits (``int('²')`` fails); a year-1 date must not
    overflow the range arithmetic."""
    auth.operator()
    for path in ("/api/kommo/contacts?query=²", "/api/kommo/deals?query=¹²"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.get_json()["total"] == 0
    for path in (
        "/relatorios?periodo=personalizado&ate=0001-01-01",
        "/assinaturas?periodo=personalizado&de=0001-01-01&ate=0001-01-02",
        "/api/reports/mrr?periodo=personalizado&ate=0001-01-01",
    ):
        assert client.get(path).status_code == 200, path
