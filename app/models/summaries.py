"""Summary tables for the overview, /vendas and /relatorios aggregates at size.

Maintained by database triggers on ``sales``, ``activation_links`` and ``kommo_leads`` (migration
``a1c3e5f7b9d2``), so every write path — ORM, core, bulk upserts, a psql session — keeps them
right in the same transaction as the change. Rows are never deleted by the triggers: a bucket
that empties keeps zeros. ``day`` is the São Paulo calendar day (``YYYY-MM-DD``) of the row's
time, the same day the pages group and filter by. NULL keys are stored as ``''``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class SalesDaily(db.Model):
    """Sales per São Paulo day of ``Sale.listed_at`` (order date, else approval, …), platform,
    status, currency, test flag and payment method (the charts' "por forma de pagamento")."""

    __tablename__ = "sales_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(8), primary_key=True)
    is_test: Mapped[bool] = mapped_column(primary_key=True)
    payment_method: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesTotal(db.Model):
    """``sales_daily`` without the day: /vendas totals without a date filter read ~100 rows."""

    __tablename__ = "sales_totals"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(8), primary_key=True)
    is_test: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class ActivationDaily(db.Model):
    """Activation links per São Paulo day of ``created_at``, counting only what the funnel
    counts: no test links, and a resend or e-mail correction's replaced link never (one
    issuance chain is one link). ``expired``/``pending`` are by stored status; readers move
    pending links already past ``expires_at`` to expired at read time."""

    __tablename__ = "activation_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    product_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    created: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)
    expired: Mapped[int] = mapped_column(Integer, default=0)
    revoked: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)


class ActivationHour(db.Model):
    """Used links (the funnel's) per São Paulo day of ``created_at`` and whole hours from
    creation to use: the median time to activate finds its hour here and reads the exact
    values of that hour only (index ``ix_activation_links_used_hour``)."""

    __tablename__ = "activation_hours"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    hours: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ActivationProduct(db.Model):
    """Links per (product id, product name), tests included: the /ativacoes product filter."""

    __tablename__ = "activation_products"

    product_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    product_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class KommoWonTotal(db.Model):
    """Won Kommo leads with a price, per currency (``''`` when unknown): the /kommo totals."""

    __tablename__ = "kommo_won_totals"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesDailyUtm(db.Model):
    """Non-test BRL sales per São Paulo day of ``Sale.listed_at``, origin (utm_source, else
    src, else ``''``), utm_campaign (``''``) and ``approved`` (1: a granting status): the
    cross report "por origem" reads ~days × origins rows instead of the range's sales."""

    __tablename__ = "sales_daily_utm"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(255), primary_key=True)
    approved: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesDailyProduct(db.Model):
    """Approved non-test BRL sales per São Paulo day, platform, product name (``''``) and
    payment method (lower case, ``''``): the cross report "por produto"."""

    __tablename__ = "sales_daily_products"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    product: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesMonthlyUtm(db.Model):
    """``sales_daily_utm`` per São Paulo month (``YYYY-MM``): a range's whole months."""

    __tablename__ = "sales_monthly_utm"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(255), primary_key=True)
    approved: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesMonthlyProduct(db.Model):
    """``sales_daily_products`` per São Paulo month (``YYYY-MM``): a range's whole months."""

    __tablename__ = "sales_monthly_products"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    product: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesMonthlyStatus(db.Model):
    """Non-test BRL sales per São Paulo month (``YYYY-MM``), platform and status: "reembolsos"
    reads a range's whole months here and only its partial months' days in ``sales_daily``."""

    __tablename__ = "sales_monthly_status"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class SalesDailyOwner(db.Model):
    """Approved non-test BRL sales per São Paulo day, CRM match (``in_crm`` 1/0) and the
    responsible user credited (``sales.crm_owner_id``, 0 for none): "receita por responsável"."""

    __tablename__ = "sales_daily_owners"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    owner: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    in_crm: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class KommoWonDaily(db.Model):
    """Won Kommo leads per São Paulo day of ``closed_at``, responsible user (0: none) and
    ``has_sale`` (1: the lead's contact bought, ``kommo_contacts.has_sale``): the cross report
    "ganho sem venda" counts its total and chart from ~days × users rows. Kept by triggers on
    ``kommo_leads`` (the lead's bucket) and ``kommo_contacts`` (its leads move when the
    contact's ``has_sale`` or ``remote_id`` changes, or it is added or deleted)."""

    __tablename__ = "kommo_won_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    owner: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    has_sale: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)


class SalesDailyBuyer(db.Model):
    """Real approved BRL sales per São Paulo day, platform, ``kind`` and the day of the same
    buyer's previous such sale (``prev_day``, '' for none): kind 0 over all their sales, 1
    over those in the CRM, 2 and 3 the same on the sale's platform (the sales' ``prev_*_day``
    columns). The buyers of days a..b are the rows of those days with ``prev_day`` before a,
    so "comprou fora do CRM" counts its total and chart from ~days × platforms rows."""

    __tablename__ = "sales_daily_buyers"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    prev_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


SUMMARY_TABLES = (
    "sales_daily_buyers",
    "kommo_won_daily",
    "sales_daily_owners",
    "sales_daily",
    "sales_totals",
    "sales_daily_utm",
    "sales_daily_products",
    "sales_monthly_utm",
    "sales_monthly_products",
    "sales_monthly_status",
    "activation_daily",
    "activation_hours",
    "activation_products",
    "kommo_won_totals",
)
