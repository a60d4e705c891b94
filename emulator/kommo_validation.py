"""Kommo's request validation for the emulator's writes (PLATFORMS-WRITES.md §1.10).

The 400 bodies Kommo answers: ``validation-errors`` grouped by the item's ``request_id`` with
``{code, path, detail}`` per problem, or the plain problem for an empty body.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from .datasets import CPF_FIELD_ID, EMAIL_ENUMS, EMAIL_FIELD_ID, PHONE_ENUMS, PHONE_FIELD_ID
from .wire import emulator, json_response

MAX_ITEMS = 250
FIELDS_BY_CODE = {"PHONE": (PHONE_FIELD_ID, PHONE_ENUMS), "EMAIL": (EMAIL_FIELD_ID, EMAIL_ENUMS)}
FIELDS_BY_ID = {fid: code for code, (fid, _) in FIELDS_BY_CODE.items()}


class Invalid(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__("validation")
        self.errors = errors  # [{request_id, errors:[{code, path, detail}]}]


def err(code: str, path: str, detail: str) -> dict:
    return {"code": code, "path": path, "detail": detail}


def validation_problem(groups: list[dict]) -> Response:
    body = {
        "validation-errors": groups,
        "title": "Bad Request",
        "type": "https://httpstatus.es/400",
        "status": 400,
        "detail": "Request validation failed",
    }
    return json_response(body, 400, content_type="application/problem+json")


def blank_problem() -> Response:
    body = {
        "title": "Bad Request",
        "type": "https://httpstatus.es/400",
        "status": 400,
        "detail": "Request data cannot be empty",
    }
    return json_response(body, 400, content_type="application/problem+json")


def body_items() -> list[dict] | Response:
    body = request.get_json(silent=True)
    if body in (None, [], {}):
        return blank_problem()
    if not isinstance(body, list):
        raise Invalid(
            [
                {
                    "request_id": "0",
                    "errors": [err("InvalidType", "", "This value should be of type array.")],
                }
            ]
        )
    if len(body) > MAX_ITEMS:
        raise Invalid([{"request_id": "0", "errors": [err("TooMany", "", "Maximum 250 entities")]}])
    return body


def int_field(item: dict, key: str, errors: list, required: bool = False) -> None:
    value = item.get(key)
    if value is None:
        if required:
            errors.append(err("NotBlank", key, "This value should not be blank."))
        return
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(err("InvalidType", key, "This value should be of type int."))


def custom_fields(item: dict, errors: list) -> list[dict] | None:
    raw = item.get("custom_fields_values")
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors.append(
            err("InvalidType", "custom_fields_values", "This value should be of type array.")
        )
        return None
    out = []
    for n, field in enumerate(raw):
        path = f"custom_fields_values.{n}"
        if not isinstance(field, dict):
            errors.append(err("InvalidType", path, "This value should be of type object."))
            continue
        code = field.get("field_code")
        if code is None and field.get("field_id") in text_fields():
            kept_text = text_field(field, path, errors)
            if kept_text is not None:
                out.append(kept_text)
            continue
        if code is None and field.get("field_id") is not None:
            code = FIELDS_BY_ID.get(field.get("field_id"))
            if code is None:
                errors.append(
                    err(
                        "NotSupportedChoice",
                        f"{path}.field_id",
                        "The selected value is not a valid choice.",
                    )
                )
                continue
        if code not in FIELDS_BY_CODE:
            errors.append(
                err(
                    "NotSupportedChoice",
                    f"{path}.field_code",
                    "The selected value is not a valid choice.",
                )
            )
            continue
        values = field.get("values")
        if not isinstance(values, list) or not values:
            errors.append(
                err("InvalidType", f"{path}.values", "This value should be of type array.")
            )
            continue
        fid, enums = FIELDS_BY_CODE[code]
        kept = []
        for m, value in enumerate(values):
            if not isinstance(value, dict) or not isinstance(value.get("value"), str):
                errors.append(
                    err(
                        "InvalidType",
                        f"{path}.values.{m}.value",
                        "This value should be of type string.",
                    )
                )
                continue
            enum = value.get("enum_code") or "WORK"
            if enum not in enums:
                errors.append(
                    err(
                        "NotSupportedChoice",
                        f"{path}.values.{m}.enum_code",
                        "The selected value is not a valid choice.",
                    )
                )
                continue
            kept.append({"value": value["value"], "enum_id": enums[enum], "enum_code": enum})
        out.append(
            {
                "field_id": fid,
                "field_name": code.title(),
                "field_code": code,
                "field_type": "multitext",
                "values": kept,
            }
        )
    return out


def text_fields() -> dict[int, str]:
    """The account's text fields of contacts: field id → name (the CPF one, when on)."""
    return {CPF_FIELD_ID: "CPF"} if emulator().config.kommo_cpf_field else {}


def text_field(field: dict, path: str, errors: list) -> dict | None:
    """A text field's value (``[{value}]``, one value, a string or a number) as Kommo stores
    it: ``{field_id, field_name, field_code: null, field_type: "text", values: [{value}]}``."""
    values = field.get("values")
    if not isinstance(values, list) or len(values) != 1 or not isinstance(values[0], dict):
        errors.append(err("InvalidType", f"{path}.values", "This value should be of type array."))
        return None
    value = values[0].get("value")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors.append(
            err("InvalidType", f"{path}.values.0.value", "This value should be of type string.")
        )
        return None
    fid = field["field_id"]
    return {
        "field_id": fid,
        "field_name": text_fields()[fid],
        "field_code": None,
        "field_type": "text",
        "values": [{"value": str(value)}],
    }


def parse_tags(raw: Any, path: str, errors: list) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append(err("InvalidType", path, "This value should be of type array."))
        return []
    tags = []
    for n, tag in enumerate(raw):
        if not isinstance(tag, dict) or not (
            isinstance(tag.get("name"), str) or isinstance(tag.get("id"), int)
        ):
            errors.append(err("InvalidType", f"{path}.{n}", "Tag needs a name or an id."))
            continue
        name = tag.get("name") or f"tag-{tag.get('id')}"
        tags.append({"id": abs(hash(name)) % 1_000_000, "name": name, "color": None})
    return tags


def pipeline_statuses() -> dict[int, set[int]]:
    data = emulator().data.kommo
    return {p["id"]: {s["id"] for s in p["_embedded"]["statuses"]} for p in data.pipelines("")}


def main_pipeline() -> int:
    data = emulator().data.kommo
    return next(p["id"] for p in data.pipelines("") if p["is_main"])


def check_stage(item: dict, errors: list, current: dict | None = None) -> None:
    int_field(item, "pipeline_id", errors)
    int_field(item, "status_id", errors)
    if errors:
        return
    statuses = pipeline_statuses()
    pipeline = item.get("pipeline_id", (current or {}).get("pipeline_id") or main_pipeline())
    if pipeline not in statuses:
        errors.append(
            err("NotSupportedChoice", "pipeline_id", "The selected value is not a valid choice.")
        )
    elif item.get("status_id") is not None and item["status_id"] not in statuses[pipeline]:
        errors.append(
            err("NotSupportedChoice", "status_id", "The selected value is not a valid choice.")
        )


def request_id(item, n: int) -> str:
    """The item's ``request_id`` as Kommo echoes it (its index when it has none)."""
    return str(item.get("request_id", n)) if isinstance(item, dict) else str(n)


def objects(items: list, groups: list[dict]):
    """``(request_id, item)`` for each object of a batch; a non-object is recorded in
    ``groups`` as Kommo's ``InvalidType`` error."""
    for n, item in enumerate(items):
        rid = request_id(item, n)
        if not isinstance(item, dict):
            groups.append(
                {
                    "request_id": rid,
                    "errors": [err("InvalidType", "", "This value should be of type object.")],
                }
            )
            continue
        yield rid, item
