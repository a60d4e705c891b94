"""Hotmart's generated records: products, sales history, subscriptions (see ``datasets``)."""

from __future__ import annotations

import math
from functools import cached_property

from .config import EmulatorConfig
from .datasets_common import (
    ALNUM_LOWER,
    ALNUM_UPPER,
    DAY,
    People,
    base36,
    code,
    first_at_or_after,
    spread,
    stable_uuid,
)
from .fake import (
    h64,
    price_cents,
    reais,
    rng,
    unit,
    weighted,
)

HOTMART_TOPICS = [
    ("Curso de Excel Avançado", "ONLINE_COURSE", False),
    ("Marketing Digital na Prática", "ONLINE_COURSE", False),
    ("Clube de Assinantes Premium", "COMMUNITY", True),
    ("Confeitaria Lucrativa", "ONLINE_COURSE", False),
    ("E-book Receitas Fit", "EBOOK", False),
    ("Mentoria de Vendas Online", "ONLINE_SERVICE", True),
    ("Inglês para Viagem", "ONLINE_COURSE", False),
    ("Planilha de Controle Financeiro", "TEMPLATES", False),
    ("Fotografia com Celular", "ONLINE_COURSE", False),
    ("Comunidade Empreendedora", "COMMUNITY", True),
    ("Programação Python do Zero", "ONLINE_COURSE", False),
    ("Método de Estudos para Concursos", "EBOOK", False),
]
HOTMART_PRODUCT_STATUS = [
    ("ACTIVE", 0.86),
    ("PAUSED", 0.05),
    ("DRAFT", 0.04),
    ("IN_REVIEW", 0.03),
    ("NOT_APPROVED", 0.02),
]
# "PAID" is split into APPROVED / COMPLETE by age (the refund window closes after 30 days).
HOTMART_SALE_STATUS = [
    ("PAID", 0.78),
    ("REFUNDED", 0.05),
    ("CHARGEBACK", 0.015),
    ("CANCELLED", 0.07),
    ("PROTESTED", 0.01),
    ("WAITING_PAYMENT", 0.03),
    ("EXPIRED", 0.03),
    ("PRINTED_BILLET", 0.015),
]
HOTMART_PAYMENT = [
    ("CREDIT_CARD", 0.55),
    ("PIX", 0.3),
    ("BILLET", 0.1),
    ("PAYPAL", 0.03),
    ("GOOGLE_PAY", 0.02),
]
HOTMART_SUB_STATUS = [
    ("ACTIVE", 0.62),
    ("CANCELLED_BY_CUSTOMER", 0.12),
    ("CANCELLED_BY_SELLER", 0.03),
    ("CANCELLED_BY_ADMIN", 0.02),
    ("DELAYED", 0.04),
    ("OVERDUE", 0.03),
    ("INACTIVE", 0.06),
    ("STARTED", 0.03),
    ("EXPIRED", 0.05),
]
ENDED_SUB_STATUSES = {
    "CANCELLED_BY_CUSTOMER",
    "CANCELLED_BY_SELLER",
    "CANCELLED_BY_ADMIN",
    "INACTIVE",
    "EXPIRED",
}
PAID_STATUSES = {"APPROVED", "COMPLETE", "REFUNDED", "CHARGEBACK", "PROTESTED"}
PLANS = [("Plano Mensal", 30, 1), ("Plano Anual", 365, 10)]  # name, period days, price factor


class HotmartData:
    """Products, sales history and subscriptions of one Hotmart environment."""

    def __init__(self, cfg: EmulatorConfig, env: str, people: People):
        self.cfg = cfg
        self.env = env
        self.people = people
        self.key = f"{cfg.seed}:hotmart:{env}"
        self.n_products = max(1, cfg.products)
        self.n_sales = cfg.sales
        self.n_subs = cfg.subscriptions
        self.now_ms = cfg.now_ts * 1000
        self.start_ms = self.now_ms - cfg.span_days * DAY * 1000
        self.product_id_base = 4_000_000 + h64(self.key, "pid") % 900_000
        self.topic_offset = h64(self.key, "topic") % len(HOTMART_TOPICS)
        self.tx_prefix = str(1_000_000 + h64(self.key, "tx") % 9_000_000)
        self.sub_id_base = 1_000_000 + h64(self.key, "sid") % 5_000_000

    # ------------------------------------------------------------------ products

    def topic(self, j: int) -> tuple[str, str, bool]:
        return HOTMART_TOPICS[(j + self.topic_offset) % len(HOTMART_TOPICS)]

    def product_id(self, j: int) -> int:
        return self.product_id_base + j

    def product_index(self, product_id: int) -> int | None:
        j = product_id - self.product_id_base
        return j if 0 <= j < self.n_products else None

    def product_name(self, j: int) -> str:
        name = self.topic(j)[0]
        batch = j // len(HOTMART_TOPICS)
        return f"{name} — Turma {batch + 1}" if batch else name

    def product_ucode(self, j: int) -> str:
        return stable_uuid(self.key, "product", j)

    def product_price(self, j: int) -> int:
        cents = price_cents(rng(self.key, "product-price", j))
        return min(cents, 9700) if self.topic(j)[2] else cents

    def product_status(self, j: int) -> str:
        return "ACTIVE" if j < 3 else weighted(unit(self.key, "pst", j), HOTMART_PRODUCT_STATUS)

    def offer_code(self, j: int, k: int) -> str:
        return code(ALNUM_LOWER, 8, self.key, "offer", j, k)

    def product(self, j: int) -> dict:
        name, fmt, is_sub = self.topic(j)
        created = spread(
            (self.key, "pcreated"),
            j,
            self.n_products,
            self.start_ms - 3 * 365 * DAY * 1000,
            self.start_ms,
        )
        return {
            "id": self.product_id(j),
            "name": self.product_name(j),
            "ucode": self.product_ucode(j),
            "status": self.product_status(j),
            "created_at": created,
            "format": fmt,
            "is_subscription": is_sub,
            "warranty_period": (7, 7, 15, 30)[h64(self.key, "warranty", j) % 4],
        }

    @cached_property
    def subscription_products(self) -> list[int]:
        found = [j for j in range(self.n_products) if self.topic(j)[2]]
        return found or [0]

    # ------------------------------------------------------------------ sales

    def sale_ms(self, i: int) -> int:
        return spread((self.key, "sale"), i, self.n_sales, self.start_ms, self.now_ms)

    def sale_product(self, i: int) -> int:
        return int(self.n_products * unit(self.key, "sprod", i) ** 2)

    def sale_buyer(self, i: int) -> int:
        return h64(self.key, "sbuyer", i) % self.people.size

    def sale_status(self, i: int) -> str:
        status = weighted(unit(self.key, "sstatus", i), HOTMART_SALE_STATUS)
        if status == "PAID":
            age_days = (self.now_ms - self.sale_ms(i)) / 1000 / DAY
            return "COMPLETE" if age_days > 30 else "APPROVED"
        return status

    def sale_payment(self, i: int) -> str:
        status = self.sale_status(i)
        if status == "PRINTED_BILLET":
            return "BILLET"
        if status in ("WAITING_PAYMENT", "EXPIRED"):
            return "PIX" if h64(self.key, "spw", i) % 2 else "BILLET"
        return weighted(unit(self.key, "spay", i), HOTMART_PAYMENT)

    def sale_offer(self, i: int) -> str:
        return self.offer_code(self.sale_product(i), h64(self.key, "soffer", i) % 3)

    def transaction(self, i: int) -> str:
        return f"HP{self.tx_prefix}{i:07d}"

    def transaction_index(self, transaction: str) -> int | None:
        tx = transaction.strip().upper()
        prefix = f"HP{self.tx_prefix}"
        if not tx.startswith(prefix) or not tx[len(prefix) :].isdigit():
            return None
        i = int(tx[len(prefix) :])
        return i if i < self.n_sales and self.transaction(i) == tx else None

    def sale_range(self, start_ms: int | None, end_ms: int | None) -> tuple[int, int]:
        lo = 0 if start_ms is None else first_at_or_after(self.n_sales, start_ms, self.sale_ms)
        hi = (
            self.n_sales
            if end_ms is None
            else first_at_or_after(self.n_sales, end_ms + 1, self.sale_ms)
        )
        return lo, max(lo, hi)

    def sale(self, i: int) -> dict:
        r = rng(self.key, "sale", i)
        j = self.sale_product(i)
        person = self.people[self.sale_buyer(i)]
        status = self.sale_status(i)
        payment = self.sale_payment(i)
        is_sub = self.topic(j)[2]
        cents = self.product_price(j)
        installments = r.choice((1, 1, 1, 2, 3, 6, 10, 12)) if payment == "CREDIT_CARD" else 1
        order_ms = self.sale_ms(i)
        purchase: dict = {
            "transaction": self.transaction(i),
            "order_date": order_ms,
        }
        if status in PAID_STATUSES:
            delay = r.randrange(2, 90) if payment != "BILLET" else r.randrange(DAY, 3 * DAY)
            # never after the dataset's "now": a boleto paid days later is still in the past
            approved = order_ms + delay * 1000 + r.randrange(1000)
            purchase["approved_date"] = min(approved, max(order_ms, self.now_ms - 1000))
        purchase.update(
            {
                "status": status,
                "recurrency_number": 1 + h64(self.key, "srec", i) % 12 if is_sub else 1,
                "is_subscription": is_sub,
                "commission_as": "PRODUCER",
                "price": {"value": reais(cents), "currency_code": "BRL"},
                "payment": {
                    "method": payment,
                    "type": payment,
                    "installments_number": installments,
                },
                "offer": {"code": self.sale_offer(i)},
                "hotmart_fee": {
                    "total": reais(round(cents * 0.099) + 100),
                    "currency_code": "BRL",
                },
            }
        )
        tracking = self.sale_tracking(i)
        if tracking:
            purchase["tracking"] = tracking
        return {
            "product": {"id": self.product_id(j), "name": self.product_name(j)},
            "buyer": {
                "name": person.name,
                "ucode": stable_uuid(self.cfg.seed, "buyer", self.sale_buyer(i)),
                "email": person.email,
            },
            "purchase": purchase,
        }

    def sale_tracking(self, i: int) -> dict | None:
        """``purchase.tracking`` of the sales history: where the buyer came from (about half
        the sales carry it; the rest came without a tracked link)."""
        pick = h64(self.key, "strack", i) % 6
        if pick >= 3:
            return None
        source = ("facebook", "instagram", "google")[pick]
        return {
            "source": source,
            "source_sck": f"{source}_ads_{h64(self.key, 'ssck', i) % 5}",
            "external_code": f"camp{h64(self.key, 'sxcod', i) % 20:02d}",
        }

    # ------------------------------------------------------------------ subscriptions

    def sub_ms(self, k: int) -> int:
        return spread((self.key, "sub"), k, self.n_subs, self.start_ms, self.now_ms)

    def sub_product(self, k: int) -> int:
        prods = self.subscription_products
        return prods[h64(self.key, "subprod", k) % len(prods)]

    def sub_plan(self, k: int) -> int:
        return 0 if unit(self.key, "subplan", k) < 0.8 else 1

    def plan_id(self, j: int, plan: int) -> int:
        return 700_000 + j * 2 + plan

    def sub_status(self, k: int) -> str:
        return weighted(unit(self.key, "substatus", k), HOTMART_SUB_STATUS)

    def sub_buyer(self, k: int) -> int:
        return h64(self.key, "subbuyer", k) % self.people.size

    def subscriber_code(self, k: int) -> str:
        return code(ALNUM_UPPER, 3, self.key, "subcode", k) + base36(k, 5)

    def sub_transaction(self, k: int) -> str:
        return f"HP{self.tx_prefix[::-1]}{k:07d}"

    def subscription(self, k: int) -> dict:
        j = self.sub_product(k)
        plan = self.sub_plan(k)
        plan_name, period_days, factor = PLANS[plan]
        person = self.people[self.sub_buyer(k)]
        accession = self.sub_ms(k)
        period = period_days * DAY * 1000
        charges = max(1, math.ceil((self.now_ms - accession) / period))
        status = self.sub_status(k)
        item = {
            "subscriber_code": self.subscriber_code(k),
            "subscription_id": self.sub_id_base + k,
            "status": status,
            "accession_date": accession,
            "date_next_charge": accession + charges * period,
            "plan": {
                "id": self.plan_id(j, plan),
                "name": plan_name,
                "recurrency_period": period_days,
            },
            "product": {
                "id": self.product_id(j),
                "name": self.product_name(j),
                "ucode": self.product_ucode(j),
            },
            "price": {"value": reais(self.product_price(j) * factor), "currency_code": "BRL"},
            "subscriber": {
                "name": person.name,
                "email": person.email,
                "ucode": stable_uuid(self.cfg.seed, "buyer", self.sub_buyer(k)),
            },
        }
        if status in ENDED_SUB_STATUSES:
            # Ended subscriptions say when (somewhere between accession and now).
            share = unit(self.key, "subend", k)
            item["end_accession_date"] = accession + int((self.now_ms - accession) * share)
        return item


# ============================================================================ Kommo
