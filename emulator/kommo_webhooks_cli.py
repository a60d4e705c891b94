"""``python -m emulator send-webhook kommo <event> (--to URL | --emulator URL) --id N …``:
one Kommo account-webhook delivery, straight to a receiver (``--to``), or through a running
emulator that changes its state and delivers to its subscribers (``--emulator``)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from .kommo_webhooks import _contact_fields, delivered_item, encode, post

EVENTS = {
    "lead-add": ("leads", "add"),
    "lead-update": ("leads", "update"),
    "lead-status": ("leads", "status"),
    "lead-delete": ("leads", "delete"),
    "contact-add": ("contacts", "add"),
    "contact-update": ("contacts", "update"),
    "contact-delete": ("contacts", "delete"),
}


def cmd(argv: Sequence[str]) -> int:
    """``python -m emulator send-webhook kommo <event> (--to URL | --emulator URL) --id N …``"""
    import requests

    p = argparse.ArgumentParser(prog="python -m emulator send-webhook kommo")
    p.add_argument("event", choices=sorted(EVENTS))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", help="receiver URL, e.g. http://127.0.0.1:5000/webhook/kommo/TOKEN")
    where.add_argument(
        "--emulator", help="a running emulator: change its state, deliver to its subscribers"
    )
    p.add_argument("--id", type=int, required=True, help="lead or contact id")
    p.add_argument("--name")
    p.add_argument("--status-id", type=int)
    p.add_argument("--old-status-id", type=int)
    p.add_argument("--pipeline-id", type=int)
    p.add_argument("--price", type=int)
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--subdomain", default="vendashub")
    p.add_argument("--account-id", type=int, default=32720107)
    args = p.parse_args(argv)
    entity, action = EVENTS[args.event]
    fields = {
        k: v
        for k, v in {
            "name": args.name,
            "status_id": args.status_id,
            "pipeline_id": args.pipeline_id,
            "price": args.price,
            "email": args.email,
            "phone": args.phone,
        }.items()
        if v is not None
    }
    if args.emulator:
        resp = requests.post(
            f"{args.emulator.rstrip('/')}/_emulator/kommo/webhook-events",
            json={"entity": entity, "action": action, "id": args.id, **fields},
            timeout=10,
        )
        print(f"POST {args.emulator} -> HTTP {resp.status_code}\n{resp.text}")
        return 0 if resp.ok else 1
    now = int(time.time())
    record = {
        "id": args.id,
        "created_at": now,
        "updated_at": now,
        "account_id": args.account_id,
        **fields,
    }
    if entity == "contacts":
        record["custom_fields_values"] = _contact_fields(fields)
    old = {"status_id": args.old_status_id, "pipeline_id": args.pipeline_id}
    item = delivered_item(entity, action, record, old if args.old_status_id else None)
    body = encode(
        entity,
        action,
        [item],
        args.subdomain,
        args.account_id,
        f"https://{args.subdomain}.kommo.com",
    )
    status = post(args.to, body, timeout=10)
    print(f"POST {args.to} -> {status if status is not None else 'no answer'}")
    return 0 if status is not None and status < 300 else 1
