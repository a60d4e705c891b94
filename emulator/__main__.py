"""Command line: ``python -m emulator [serve] …``, ``… env …``, ``… send-webhook …``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import EmulatorConfig, env_lines, parse_now
from .webhooks import (
    DEFAULT_KIRVANO_HEADER,
    PLATFORMS,
    SENDERS,
    build_event,
    send,
    url_with_query,
)

SIZE_FLAGS = (
    "products",
    "sales",
    "subscriptions",
    "contacts",
    "leads",
    "gc_sales",
    "gc_clients",
    "gc_products",
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5055)
    p.add_argument("--seed", type=int, default=EmulatorConfig.seed)


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m emulator", description="Run the Hotmart / Kommo / Gestão Click emulator."
    )
    _common(p)
    defaults = EmulatorConfig()
    for name in SIZE_FLAGS:
        p.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=int,
            default=getattr(defaults, name),
            help="records (default %(default)s)",
        )
    p.add_argument(
        "--now",
        default=None,
        help="end of the generated 365-day window: ISO date/time, 'today' or 'now' "
        f"(default {defaults.now.isoformat()})",
    )
    p.add_argument(
        "--token-ttl",
        type=int,
        default=defaults.hotmart_token_ttl,
        help="Hotmart access-token lifetime in seconds",
    )
    p.add_argument(
        "--hotmart-date-unit",
        choices=("ms", "s"),
        default=defaults.hotmart_date_unit,
        help="unit of the dates in Hotmart REST answers (default %(default)s)",
    )
    p.add_argument("--no-rate-limits", action="store_true", help="disable every rate limit")
    p.add_argument("--hotmart-rate-limit", type=int, default=defaults.hotmart_rate_limit)
    p.add_argument(
        "--kommo-currency",
        default=defaults.kommo_currency,
        help="currency of the Kommo account (GET /api/v4/account; default %(default)s)",
    )
    p.add_argument("--kommo-rate-limit", type=int, default=defaults.kommo_rate_limit)
    p.add_argument("--kommo-retry-after", type=int, default=defaults.kommo_retry_after)
    p.add_argument("--kommo-block-after", type=int, default=defaults.kommo_block_after)
    p.add_argument("--kommo-block-seconds", type=float, default=defaults.kommo_block_seconds)
    p.add_argument(
        "--kommo-cpf-field",
        action="store_true",
        help="the Kommo account has a CPF text field on contacts",
    )
    p.add_argument("--gc-rate-limit", type=int, default=defaults.gc_rate_limit)
    p.add_argument("--gc-daily-limit", type=int, default=defaults.gc_daily_limit)
    faults = p.add_argument_group("fault injection at start (same as POST /_emulator/faults)")
    faults.add_argument(
        "--fault-api", default="*", choices=["*", "hotmart", "kommo", "gestaoclick"]
    )
    faults.add_argument("--latency-ms", type=int, default=0)
    faults.add_argument("--error-rate", type=float, default=None)
    faults.add_argument("--error-status", type=int, default=None)
    faults.add_argument("--fault-timeout", action="store_true")
    faults.add_argument("--fault-unauthorized", action="store_true")
    faults.add_argument("--fault-blocked", action="store_true")
    faults.add_argument("--fault-count", type=int, default=None)
    faults.add_argument(
        "--timeout-seconds",
        type=float,
        default=defaults.fault_timeout_seconds,
        help="how long a timeout fault hangs before answering 504",
    )
    return p


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    cfg = EmulatorConfig(seed=args.seed)
    for name in SIZE_FLAGS:
        setattr(cfg, name, getattr(args, name))
    if args.now:
        cfg.now = parse_now(args.now)
    cfg.hotmart_token_ttl = args.token_ttl
    cfg.hotmart_date_unit = args.hotmart_date_unit
    cfg.rate_limits_enabled = not args.no_rate_limits
    cfg.hotmart_rate_limit = args.hotmart_rate_limit
    cfg.kommo_currency = args.kommo_currency.strip().upper()
    cfg.kommo_rate_limit = args.kommo_rate_limit
    cfg.kommo_retry_after = args.kommo_retry_after
    cfg.kommo_block_after = args.kommo_block_after
    cfg.kommo_block_seconds = args.kommo_block_seconds
    cfg.kommo_cpf_field = args.kommo_cpf_field
    cfg.gc_rate_limit = args.gc_rate_limit
    cfg.gc_daily_limit = args.gc_daily_limit
    cfg.fault_timeout_seconds = args.timeout_seconds
    fault: dict = {"api": args.fault_api}
    if args.latency_ms:
        fault["latency_ms"] = args.latency_ms
    if args.error_rate is not None:
        fault["error_rate"] = args.error_rate
    if args.error_status is not None:
        fault["status"] = args.error_status
    for flag in ("timeout", "unauthorized", "blocked"):
        if getattr(args, f"fault_{flag}"):
            fault[flag] = True
    if args.fault_count is not None:
        fault["count"] = args.fault_count
    if len(fault) > 1 + ("count" in fault):
        cfg.faults = [fault]
    return cfg


def cmd_serve(argv: Sequence[str]) -> int:
    from werkzeug.serving import run_simple

    from .app import create_app

    args = serve_parser().parse_args(argv)
    cfg = config_from_args(args)
    app = create_app(cfg)
    print(
        "# Vendas Hub emulator: paste these lines into a shell, or eval "
        f'"$(python -m emulator env --port {args.port} --seed {args.seed})"'
    )
    for line in env_lines(cfg, args.host, args.port):
        print(line)
    sys.stdout.flush()
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0


def cmd_env(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m emulator env",
        description="Print export lines pointing the app at an emulator.",
    )
    _common(p)
    args = p.parse_args(argv)
    for line in env_lines(EmulatorConfig(seed=args.seed), args.host, args.port):
        print(line)
    return 0


def cmd_send_webhook(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m emulator send-webhook",
        description="POST a realistic, signed platform webhook.",
    )
    p.add_argument("platform", choices=PLATFORMS)
    p.add_argument(
        "event",
        help="family (approved, refunded, chargeback, canceled, pix_generated, billet_generated, "
        "abandoned_cart, subscription_canceled, subscription_renewed) or a native event name",
    )
    p.add_argument(
        "--to", required=True, help="receiver URL, e.g. http://127.0.0.1:5000/webhook/kiwify"
    )
    p.add_argument(
        "--secret",
        default=None,
        help="; ".join(f"{name}: {s.secret_help}" for name, s in SENDERS.items() if s.secret_help),
    )
    p.add_argument("--email")
    p.add_argument("--name")
    p.add_argument("--transaction", help="transaction / order id / sale id")
    p.add_argument("--product-id")
    p.add_argument("--product-name")
    p.add_argument("--amount", type=int, help="amount in cents (default 19700)")
    p.add_argument("--phone")
    p.add_argument("--document", help="CPF/CNPJ digits")
    p.add_argument("--recurrence", type=int, help="charge number (renewals)")
    p.add_argument("--recurring", action="store_true", help="mark the sale as a subscription")
    p.add_argument(
        "--kirvano-header",
        default=DEFAULT_KIRVANO_HEADER,
        help="header that carries the Kirvano token (default %(default)s)",
    )
    p.add_argument(
        "--hottok-in-body", action="store_true", help="also put the hottok in the Hotmart body"
    )
    p.add_argument(
        "--form",
        action="store_true",
        help="legacy Eduzz postback as x-www-form-urlencoded (legacy event names only)",
    )
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--dry-run", action="store_true", help="print the request instead of sending")
    args = p.parse_args(argv)
    overrides = {
        k: v
        for k, v in {
            "email": args.email,
            "name": args.name,
            "transaction": args.transaction,
            "product_id": args.product_id,
            "product_name": args.product_name,
            "amount": args.amount,
            "phone": args.phone,
            "document": args.document,
            "recurrence": args.recurrence,
            "recurring": args.recurring or None,
        }.items()
        if v is not None
    }
    try:
        body, headers, query = build_event(
            args.platform,
            args.event,
            secret=args.secret,
            kirvano_header=args.kirvano_header,
            hottok_in_body=args.hottok_in_body,
            form=args.form,
            **overrides,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = url_with_query(args.to, query)
    if args.dry_run:
        print(f"POST {url}")
        for name, value in headers.items():
            print(f"{name}: {value}")
        print()
        print(body.decode())
        return 0
    import requests

    try:
        resp = send(args.to, body, headers, query, timeout=args.timeout)
    except requests.RequestException as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"POST {url} -> HTTP {resp.status_code}")
    print(resp.text)
    return 0 if resp.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "env":
        return cmd_env(argv[1:])
    if argv[:2] == ["send-webhook", "kommo"]:  # Kommo's account webhooks (CRM changes)
        from .kommo_webhooks_cli import cmd

        return cmd(argv[2:])
    if argv and argv[0] == "send-webhook":
        return cmd_send_webhook(argv[1:])
    if argv and argv[0] == "telegram-join":  # a join through an invite link (chat_member)
        from .telegram import cmd_join

        return cmd_join(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    return cmd_serve(argv)


if __name__ == "__main__":
    sys.exit(main())
