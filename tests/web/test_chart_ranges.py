"""The date range of the overview and the reports: presets, custom days in São Paulo time,
buckets by day/week/month with the year, and junk never a 500."""

from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Sale
from app.services import charts


@pytest.fixture
def today(monkeypatch):
    fixed = date(2026, 12, 1)
    monkeypatch.setattr(charts, "today", lambda: fixed)
    return fixed


def _range(**args):
    return charts.from_args(MultiDict(args))


def test_presets_and_custom_ranges(today):
    assert _range().key == "30" and _range().start == today - timedelta(days=29)
    assert _range(periodo="hoje").start == today and _range(periodo="hoje").days == 1
    assert _range(periodo="12m").days == 365 and _range(periodo="12m").grain == "month"
    assert _range(periodo="90").grain == "week" and _range(periodo="30").grain == "day"
    assert _range(dias="7").key == "7"  # the reports page's former links
    custom = _range(periodo="personalizado", de="2026-11-20", ate="2026-11-01")
    assert (custom.start, custom.end) == (date(2026, 11, 1), date(2026, 11, 20))  # swapped
    assert custom.until is not None and custom.since.utcoffset() == timedelta(hours=-3)
    future = _range(periodo="personalizado", de="2026-11-25", ate="2031-01-01")
    assert future.end == today and future.until is None  # to now
    assert _range(periodo="personalizado", de="1900-01-01").days == charts.MAX_DAYS
    for junk in ({"periodo": "x"}, {"periodo": "personalizado", "de": "31/12/2026"}):
        assert _range(**junk).key == "30"


def test_buckets_and_labels(today):
    months = _range(periodo="12m")
    labels = [charts._label(b, "month") for b in charts.buckets(months)]
    assert labels[0] == "dez/2025" and labels[-1] == "dez/2026" and len(labels) == 13
    weeks = charts.buckets(_range(periodo="90"))
    assert all(b.weekday() == 0 for b in weeks)
    assert charts._label(weeks[-1], "week") == "sem. 30/11/2026"


def test_revenue_is_bucketed_by_sao_paulo_day(app, today):
    from datetime import UTC, datetime

    # 01:30 UTC on Nov 30 is still Nov 29 in São Paulo.
    when = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    db.session.add(
        Sale(
            platform="kiwify",
            transaction_id="T1",
            status="approved",
            amount_cents=12_345,
            currency="BRL",
            payment_method="pix",
            approved_at=when,
        )
    )
    db.session.commit()
    r = _range(periodo="7")
    built = charts.build(r, type("F", (), {"created": 0, "sent": 0, "opened": 0, "used": 0})())
    revenue = built["revenue"]
    index = revenue["labels"].index("29/11/2026")
    assert revenue["datasets"][0]["data"][index] == 123.45
    payments = built["payments"]
    assert payments["labels"] == ["PIX"] and payments["datasets"][0]["data"] == [1]
    assert built["refunds"]["empty"] and built["funnel"]["empty"]


@pytest.mark.parametrize("path", ["/", "/relatorios"])
@pytest.mark.parametrize(
    "query",
    [
        "periodo=personalizado&de=9999-99-99&ate=0000-00-00",
        "periodo=personalizado&de=2026-02-30",
        "periodo=" + "9" * 5000,
        "periodo=personalizado&de=0001-01-01&ate=9999-12-31",
        "dias=-1",
        "periodo[]=7",
    ],
)
def test_junk_ranges_fall_back_never_500(app, auth, client, path, query):
    auth.operator()
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200
    assert "data-date-range" in response.get_data(as_text=True)
