"""Where a sale came from: each platform's tracking fields read into one shape."""

from __future__ import annotations

import pytest

from app.sources import SOURCES, tracking
from app.sources.eduzz_legacy import parse as parse_eduzz_legacy

EMPTY = dict.fromkeys(tracking.TRACKING_FIELDS)


def origin_of(event) -> dict:
    return {name: getattr(event, name) for name in tracking.TRACKING_FIELDS}


def test_hotmart_purchase_origin(webhook_body):
    event = SOURCES["hotmart"].parse(webhook_body("hotmart", "purchase_approved"))
    assert origin_of(event) == {
        **EMPTY,
        "src": "instagram",
        "sck": "HOTMART_PRODUCT_PAGE",
        "xcod": "campanha-black-friday",
    }


def test_hotmart_without_origin_and_cancellation(webhook_body):
    assert (
        origin_of(SOURCES["hotmart"].parse(webhook_body("hotmart", "purchase_refunded"))) == EMPTY
    )
    cancel = SOURCES["hotmart"].parse(webhook_body("hotmart", "subscription_cancellation"))
    assert origin_of(cancel) == EMPTY


def test_kiwify_tracking_parameters(webhook_body):
    event = SOURCES["kiwify"].parse(webhook_body("kiwify", "order_approved"))
    assert origin_of(event) == {**EMPTY, "utm_source": "FB"}
    body = webhook_body("kiwify", "order_approved")
    body["TrackingParameters"] = {
        "src": "bio",
        "sck": "story_01",
        "utm_source": "facebook",
        "utm_medium": "cpc",
        "utm_campaign": "lancamento",
        "utm_content": "video-2",
        "utm_term": "curso",
        "s1": "ignored",
    }
    assert origin_of(SOURCES["kiwify"].parse(body)) == {
        "utm_source": "facebook",
        "utm_medium": "cpc",
        "utm_campaign": "lancamento",
        "utm_content": "video-2",
        "utm_term": "curso",
        "src": "bio",
        "sck": "story_01",
        "xcod": None,
    }


def test_kiwify_platform_test_all_null(webhook_body):
    event = SOURCES["kiwify"].parse(webhook_body("kiwify", "platform_test_approved"))
    assert origin_of(event) == EMPTY


def test_kirvano_utm_object(webhook_body):
    event = SOURCES["kirvano"].parse(webhook_body("kirvano", "sale_approved"))
    assert origin_of(event) == {**EMPTY, "utm_source": "FB"}
    body = webhook_body("kirvano", "sale_approved")
    body["utm"] = {"src": "yt", "utm_source": "google", "utm_campaign": "  black  ", "utm_term": ""}
    assert origin_of(SOURCES["kirvano"].parse(body)) == {
        **EMPTY,
        "src": "yt",
        "utm_source": "google",
        "utm_campaign": "black",
    }


def test_kirvano_order_bump_items_keep_the_origin(webhook_body):
    from app.services.sales import item_event

    event = SOURCES["kirvano"].parse(webhook_body("kirvano", "sale_approved_order_bump"))
    assert event.utm_source == "FB" and event.extra_items
    assert item_event(event, event.extra_items[0]).utm_source == "FB"


def test_eduzz_utm_and_tracker(webhook_body):
    event = SOURCES["eduzz"].parse(webhook_body("eduzz", "invoice_paid"))
    assert origin_of(event) == {
        **EMPTY,
        "utm_source": "abc",
        "utm_campaign": "def",
        "utm_content": "ghi",
        "utm_medium": "jkl",
    }
    body = webhook_body("eduzz", "invoice_paid")
    body["data"]["utm"]["term"] = "termo"
    body["data"]["tracker"] = {"code1": "trk-1", "code2": "trk-2", "code3": None}
    parsed = origin_of(SOURCES["eduzz"].parse(body))
    assert parsed["utm_term"] == "termo" and parsed["src"] == "trk-1" and parsed["sck"] == "trk-2"


def test_eduzz_legacy_tracker_fields(webhook_body):
    body = webhook_body("eduzz", "legacy_invoice_paid")
    assert origin_of(parse_eduzz_legacy(body)) == EMPTY
    body.update(
        {"tracker_utm_source": "instagram", "tracker_utm_campaign": "promo", "tracker_trk": "x1"}
    )
    assert origin_of(parse_eduzz_legacy(body)) == {
        **EMPTY,
        "utm_source": "instagram",
        "utm_campaign": "promo",
        "src": "x1",
    }


@pytest.mark.parametrize("value", [None, 123, "", "   ", [], {"a": 1}, True])
def test_hostile_values_are_none_or_text(value):
    out = tracking.flat({"utm_source": value, "src": value})
    assert out["utm_source"] in (None, "123")
    assert set(out) == set(tracking.TRACKING_FIELDS)


def test_long_values_are_cut_and_non_objects_ignored():
    assert tracking.flat({"utm_campaign": "x" * 1000})["utm_campaign"] == "x" * 255
    assert tracking.flat("utm_source=fb") == EMPTY
    assert tracking.hotmart_origin({"origin": "not-an-object"}) == EMPTY
    assert tracking.hotmart_history(
        {"tracking": {"source": "HOTMART", "source_sck": "s", "external_code": "e"}}
    ) == {
        **EMPTY,
        "src": "HOTMART",
        "sck": "s",
        "xcod": "e",
    }
