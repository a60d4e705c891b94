"""The overview's and /relatorios' charts: one date range (São Paulo days), SQL aggregates.

Sales figures come from the ``sales_daily`` summary (whole São Paulo days, so a range of days
reads at most days × platforms × statuses rows whatever the table size); activation figures
from ``activation_daily`` through ``app.services.stats``. Daily buckets become weeks over
ranges longer than two months and months over ranges longer than about six.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.formatting import DISPLAY_TZ, PAYMENT_LABELS, local, platform_label
from app.models import SalesDaily
from app.models.sales import GRANTING_STATUSES
from app.models.types import utcnow

# ?periodo= values: label and number of São Paulo days ending today.
PRESETS = {
    "hoje": ("Hoje", 1),
    "7": ("7 dias", 7),
    "30": ("30 dias", 30),
    "90": ("90 dias", 90),
    "12m": ("12 meses", 365),
}
DEFAULT = "30"
CUSTOM = "personalizado"
MAX_DAYS = 366 * 5
MONTHS = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")


@dataclass(frozen=True)
class DateRange:
    key: str  # a PRESETS key or CUSTOM
    start: date  # first São Paulo day
    end: date  # last São Paulo day (inclusive)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), DISPLAY_TZ)

    @property
    def until(self) -> datetime | None:
        """The midnight after the last day, or None when the range runs to now."""
        if self.end >= today():
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), DISPLAY_TZ)

    @property
    def label(self) -> str:
        if self.key in PRESETS:
            return "Hoje" if self.key == "hoje" else f"Últimos {PRESETS[self.key][0]}"
        return f"{self.start:%d/%m/%Y} a {self.end:%d/%m/%Y}"

    @property
    def args(self) -> dict:
        """The query arguments naming this range (for links that keep it)."""
        if self.key == CUSTOM:
            return {"periodo": CUSTOM, "de": self.start.isoformat(), "ate": self.end.isoformat()}
        return {"periodo": self.key}

    @property
    def grain(self) -> str:
        if self.days <= 62:
            return "day"
        return "week" if self.days <= 190 else "month"


def today() -> date:
    return local(utcnow()).date()


EARLIEST = date(2000, 1, 1)  # before any sale here; keeps date arithmetic in range


def _parse_day(value: str | None) -> date | None:
    try:
        day = date.fromisoformat((value or "")[:10])
    except ValueError:
        return None
    return max(day, EARLIEST)


def from_args(args) -> DateRange:
    """The range a request asks for; anything unreadable falls back to the last 30 days."""
    key = args.get("periodo", "")
    if not key and args.get("dias") in ("7", "30", "90"):
        key = args.get("dias")  # the reports page's former ?dias=
    elif not key and args.get("dias") == "365":
        key = "12m"
    now = today()
    if key == CUSTOM:
        start, end = _parse_day(args.get("de")), _parse_day(args.get("ate"))
        if start or end:
            start, end = start or end, end or now
            if start > end:
                start, end = end, start
            end = min(end, now)
            start = max(min(start, end), end - timedelta(days=MAX_DAYS - 1))
            return DateRange(CUSTOM, start, end)
        key = DEFAULT
    if key not in PRESETS:
        key = DEFAULT
    return DateRange(key, now - timedelta(days=PRESETS[key][1] - 1), now)


def _bucket(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())  # the Monday
    if grain == "month":
        return day.replace(day=1)
    return day


def _label(first: date, grain: str) -> str:
    if grain == "month":
        return f"{MONTHS[first.month - 1]}/{first.year}"
    if grain == "week":
        return f"sem. {first:%d/%m/%Y}"
    return f"{first:%d/%m/%Y}"


def buckets(r: DateRange) -> list[date]:
    """Every bucket of the range in order, empty ones included."""
    found, day = [], r.start
    while day <= r.end:
        first = _bucket(day, r.grain)
        if not found or found[-1] != first:
            found.append(first)
        day += timedelta(days=1)
    return found


def _reais(cents: int) -> float:
    return round(cents / 100, 2)


def _real_sales_in(r: DateRange) -> tuple:
    """``sales_daily`` rows of the range's São Paulo days, test sales and non-BRL left out."""
    return (
        SalesDaily.day >= r.start.isoformat(),
        SalesDaily.day <= r.end.isoformat(),
        SalesDaily.is_test.is_(False),
        SalesDaily.currency.in_(("BRL", "")),
    )


def sales_rows(r: DateRange):
    """(day, platform, status, n, cents) of non-test BRL sales per São Paulo day."""
    return db.session.execute(
        select(
            SalesDaily.day,
            SalesDaily.platform,
            SalesDaily.status,
            func.sum(SalesDaily.n),
            func.sum(SalesDaily.amount_cents),
        )
        .where(*_real_sales_in(r))
        .group_by(SalesDaily.day, SalesDaily.platform, SalesDaily.status)
    ).all()


def _series(r: DateRange, values: dict[tuple[str, date], float], names: list[str], labels):
    keys = buckets(r)
    return {
        "labels": [_label(k, r.grain) for k in keys],
        "datasets": [
            {"label": labels(name), "data": [values.get((name, k), 0) for k in keys]}
            for name in names
        ],
    }


def revenue_chart(r: DateRange, rows) -> dict:
    """Approved revenue (R$) per bucket, one stacked series per platform."""
    values: dict[tuple[str, date], float] = {}
    platforms: set[str] = set()
    for day, platform, status, _n, cents in rows:
        if status not in GRANTING_STATUSES or not cents:
            continue
        key = (platform, _bucket(date.fromisoformat(day), r.grain))
        values[key] = round(values.get(key, 0) + _reais(int(cents)), 2)
        platforms.add(platform)
    chart = _series(r, values, sorted(platforms), platform_label)
    return {**chart, "type": "bar", "stacked": True, "money": True, "empty": not platforms}


def refunds_chart(r: DateRange, rows) -> dict:
    """Refunds and chargebacks (count) per bucket, by the sale's date."""
    names = {"refunded": "Reembolsos", "chargeback": "Chargebacks"}
    values: dict[tuple[str, date], float] = {}
    seen = False
    for day, _platform, status, n, _cents in rows:
        if status not in names or not n:
            continue
        key = (status, _bucket(date.fromisoformat(day), r.grain))
        values[key] = values.get(key, 0) + int(n)
        seen = True
    chart = _series(r, values, list(names), names.get)
    return {**chart, "type": "bar", "stacked": False, "money": False, "empty": not seen}


def payment_chart(r: DateRange) -> dict:
    """Approved sales per payment method in the range (count and R$), from ``sales_daily``."""
    rows = db.session.execute(
        select(
            func.lower(SalesDaily.payment_method),
            func.sum(SalesDaily.n),
            func.sum(SalesDaily.amount_cents),
        )
        .where(*_real_sales_in(r), SalesDaily.status.in_(GRANTING_STATUSES))
        .group_by(func.lower(SalesDaily.payment_method))
    ).all()
    merged: dict[str, list[int]] = {}
    for value, n, cents in rows:
        if not n:
            continue
        label = PAYMENT_LABELS.get(value, value) if value else "Não informado"
        entry = merged.setdefault(label, [0, 0])
        entry[0] += int(n)
        entry[1] += int(cents or 0)
    ordered = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))
    return {
        "type": "bar",
        "horizontal": True,
        "money": False,
        "labels": [label for label, _ in ordered],
        "datasets": [{"label": "Vendas aprovadas", "data": [n for _, (n, _c) in ordered]}],
        "table_extra": {"label": "Valor", "data": [_reais(c) for _, (_n, c) in ordered]},
        "empty": not ordered,
    }


def funnel_chart(funnel) -> dict:
    steps = (
        ("Links criados", funnel.created),
        ("E-mails enviados", funnel.sent),
        ("Links abertos", funnel.opened),
        ("Acessos ativados", funnel.used),
    )
    return {
        "type": "bar",
        "horizontal": True,
        "money": False,
        "labels": [label for label, _ in steps],
        "datasets": [{"label": "Compradores", "data": [value for _, value in steps]}],
        "empty": not funnel.created,
    }


def activations_chart(r: DateRange) -> dict:
    """Links created / opened / used per bucket (by the link's creation day)."""
    from app.services import stats

    groups = stats._link_groups(r.since, None, None, ("day",), until=r.until)
    values: dict[tuple[str, date], float] = {}
    for (day,), entry in groups.items():
        first = _bucket(date.fromisoformat(day), r.grain)
        for name in ("created", "opened", "used"):
            values[(name, first)] = values.get((name, first), 0) + entry[name]
    labels = {"created": "Links criados", "opened": "Abertos", "used": "Usados"}
    chart = _series(r, values, list(labels), labels.get)
    return {**chart, "type": "bar", "money": False, "empty": not groups}


def build(r: DateRange, funnel) -> dict:
    rows = sales_rows(r)
    return {
        "revenue": revenue_chart(r, rows),
        "refunds": refunds_chart(r, rows),
        "payments": payment_chart(r),
        "funnel": funnel_chart(funnel),
    }
