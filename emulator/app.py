"""The emulator Flask app: mounts the three APIs plus the ``/_emulator`` control endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import (
    gestaoclick,
    gestaoclick_panel,
    gestaoclick_writes,
    hotmart,
    kommo,
    kommo_webhooks,
    telegram,
)
from .config import EmulatorConfig, env_lines
from .datasets import Datasets
from .runtime import APIS, Runtime
from .wire import emulator, json_response

PREFIXES = {"/hotmart/": "hotmart", "/kommo/": "kommo", "/gestaoclick/": "gestaoclick"}
ACCOUNT_OF = {
    "hotmart": hotmart.account_of,
    "kommo": kommo.account_of,
    "gestaoclick": gestaoclick.account_of,
}
FAULT_RENDERERS = {
    "hotmart": hotmart.fault_response,
    "kommo": kommo.fault_response,
    "gestaoclick": gestaoclick.fault_response,
}


@dataclass
class Emulator:
    config: EmulatorConfig
    runtime: Runtime
    data: Datasets


def api_of(path: str) -> str | None:
    for prefix, api in PREFIXES.items():
        if path.startswith(prefix):
            return api
    return None


control = Blueprint("emulator", __name__, url_prefix="/_emulator")


@control.get("/faults")
def list_faults() -> Response:
    return json_response({"faults": emulator().runtime.list_faults()})


@control.post("/faults")
def add_fault() -> Response:
    body = request.get_json(silent=True)
    rules = body if isinstance(body, list) else [body]
    try:
        added = [emulator().runtime.add_fault(rule).as_dict() for rule in rules]
    except ValueError as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response({"added": added, "faults": emulator().runtime.list_faults()}, 201)


@control.delete("/faults")
def clear_faults() -> Response:
    api = request.args.get("api")
    removed = emulator().runtime.clear_faults(api=api)
    return json_response({"removed": removed, "faults": emulator().runtime.list_faults()})


@control.delete("/faults/<int:rule_id>")
def clear_fault(rule_id: int) -> Response:
    removed = emulator().runtime.clear_faults(rule_id=rule_id)
    return json_response({"removed": removed}, 200 if removed else 404)


@control.get("/stats")
def stats() -> Response:
    return json_response(emulator().runtime.stats_dict())


@control.delete("/stats")
def reset_stats() -> Response:
    emulator().runtime.reset_stats()
    return json_response(emulator().runtime.stats_dict())


@control.get("/rates")
def rates() -> Response:
    """Per API and account: requests seen and the most that arrived within any 1 s."""
    return json_response(emulator().runtime.rates.as_dict())


@control.delete("/rates")
def reset_rates() -> Response:
    emulator().runtime.rates.reset()
    return json_response(emulator().runtime.rates.as_dict())


@control.post("/reset")
def reset() -> Response:
    """Clear faults, stats, rates, rate-limit windows and Kommo blocks (issued tokens stay
    valid)."""
    rt = emulator().runtime
    rt.clear_faults()
    rt.reset_stats()
    rt.rates.reset()
    rt.reset_limits()
    return json_response({"status": "reset"})


@control.get("/env")
def env() -> Response:
    host = request.host.rsplit(":", 1)
    port = int(host[1]) if len(host) == 2 and host[1].isdigit() else 80
    lines = env_lines(emulator().config, host[0].strip("[]"), port)
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@control.get("/health")
def health() -> Response:
    cfg = emulator().config
    names = (
        "products",
        "sales",
        "subscriptions",
        "contacts",
        "leads",
        "gc_sales",
        "gc_clients",
        "gc_products",
    )
    sizes = {k: getattr(cfg, k) for k in names}
    return json_response(
        {"status": "ok", "seed": cfg.seed, "now": cfg.now.isoformat(), "sizes": sizes}
    )


def create_app(config: EmulatorConfig | dict[str, Any] | None = None) -> Flask:
    """Build an emulator app; ``config`` is an EmulatorConfig or a dict of its fields."""
    cfg = EmulatorConfig.from_value(config)
    app = Flask("emulator")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["emulator"] = Emulator(cfg, Runtime(cfg), Datasets(cfg))
    app.register_blueprint(hotmart.bp)
    app.register_blueprint(kommo.bp)
    app.register_blueprint(gestaoclick.bp)
    app.register_blueprint(control)
    kommo_webhooks.init_app(app)  # Kommo webhook subscriptions and the delivery sender
    gestaoclick_writes.init_app(app)  # Gestão Click POST clientes / vendas
    gestaoclick_panel.init_app(app)  # the panel's page of a written venda (the UI's links)
    telegram.init_app(app)  # Telegram Bot API (/telegram/bot<token>/<method>) and joins

    @app.before_request
    def _count_and_inject() -> Response | None:
        api = api_of(request.path)
        if api is None:
            return None
        emu = emulator()
        emu.runtime.count_request(api, request.endpoint or "unknown")
        emu.runtime.rates.record(api, ACCOUNT_OF[api]())
        decision = emu.runtime.decide_fault(api, request.path)
        if decision.latency_ms:
            emu.config.sleep(decision.latency_ms / 1000)
        if decision.kind == "timeout":
            emu.config.sleep(emu.config.fault_timeout_seconds)
        if decision.kind:
            return FAULT_RENDERERS[api](decision.kind, decision.status)
        return None

    @app.after_request
    def _count_status(resp: Response) -> Response:
        api = api_of(request.path)
        if api is not None:
            emulator().runtime.count_status(api, resp.status_code)
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        api = api_of(request.path)
        if api == "hotmart":
            return hotmart.error(
                status, "not_found" if status == 404 else "invalid_request", exc.description or ""
            )
        if api == "kommo":
            return kommo.problem(status, exc.description or "")
        if api == "gestaoclick":
            return gestaoclick.error(
                status, "Rota não encontrada" if status == 404 else exc.description or ""
            )
        return json_response({"error": exc.name, "description": exc.description}, status)

    @app.get("/")
    def index() -> Response:
        return json_response(
            {
                "emulator": "Vendas Hub platform emulator",
                "apis": {
                    "hotmart": [
                        "/hotmart/auth/security/oauth/token",
                        "/hotmart/{sandbox|production}/products/api/v1/products",
                        "/hotmart/{sandbox|production}/payments/api/v1/sales/history",
                        "/hotmart/{sandbox|production}/payments/api/v1/subscriptions",
                    ],
                    "kommo": [
                        "/kommo/api/v4/account",
                        "/kommo/api/v4/contacts",
                        "/kommo/api/v4/leads",
                        "/kommo/api/v4/leads/pipelines",
                        "/kommo/api/v4/leads/complex (POST)",
                        "/kommo/api/v4/leads/{id}/notes",
                    ],
                    "gestaoclick": [
                        "/gestaoclick/api/vendas",
                        "/gestaoclick/api/clientes",
                        "/gestaoclick/api/produtos",
                        "/gestaoclick/api/situacoes_vendas",
                        "/gestaoclick/api/lojas",
                        "/gestaoclick/vendas_{produto|servico}s/visualizar/{id} (panel page)",
                    ],
                },
                "control": [
                    "/_emulator/faults",
                    "/_emulator/stats",
                    "/_emulator/rates",
                    "/_emulator/reset",
                    "/_emulator/env",
                    "/_emulator/health",
                ],
            }
        )

    return app


__all__ = ["APIS", "Emulator", "create_app"]
