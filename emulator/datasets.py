"""Lazy, deterministic record generators for every emulated resource.

Record ``i`` of a resource is a pure function of ``(seed, resource, i)``. Timestamps grow
with ``i``, so date filters become index ranges found by bisection; other filters scan a cheap
per-record hash (never a whole record) and the matching indices are cached by the runtime.
"""

from __future__ import annotations

import bisect
import math
import uuid
from datetime import datetime, timedelta, timezone
from functools import cached_property

from .config import EmulatorConfig
from .fake import (
    Person,
    company_name,
    format_cnpj,
    format_cpf,
    h64,
    make_cnpj,
    make_person,
    money_str,
    price_cents,
    reais,
    rng,
    unit,
    weighted,
)

DAY = 86400
BRT = timezone(timedelta(hours=-3))  # America/Sao_Paulo has had no DST since 2019
ALNUM_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def spread(key: object, i: int, n: int, start: int, end: int) -> int:
    """Timestamp of record ``i`` of ``n``: non-decreasing in ``i`` within [start, end)."""
    if n <= 0:
        return start
    return start + int((i + unit(key, i, "t")) * (end - start) / n)


def first_at_or_after(n: int, value: int, ts) -> int:
    """Smallest index whose timestamp is >= value (``ts`` must be non-decreasing)."""
    return bisect.bisect_left(range(n), value, key=ts)


def stable_uuid(*parts: object) -> str:
    raw = bytearray(h64(*parts, "a").to_bytes(8, "big") + h64(*parts, "b").to_bytes(8, "big"))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def code(alphabet: str, length: int, *parts: object) -> str:
    value = h64(*parts)
    out = []
    for _ in range(length):
        value, rem = divmod(value, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


def base36(n: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while n:
        n, rem = divmod(n, 36)
        out = digits[rem] + out
    return out.rjust(width, "0")


def coprime_multiplier(n: int) -> int:
    for prime in (7919, 104729, 1299709, 15485863, 179424673):
        if n <= 1 or math.gcd(prime, n) == 1:
            return prime
    return 1  # unreachable for n < 179424673**5


def iso_local(ts: int) -> str:
    return datetime.fromtimestamp(ts, BRT).strftime("%Y-%m-%d %H:%M:%S")


def date_local(ts: int) -> str:
    return datetime.fromtimestamp(ts, BRT).strftime("%Y-%m-%d")


def local_midnight_ts(day: str) -> int:
    """``AAAA-MM-DD`` (São Paulo) → Unix seconds of its midnight; ValueError if malformed."""
    parsed = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=BRT)
    return int(parsed.timestamp())


class People:
    """The shared buyer pool: person ``p`` is the same in Hotmart, Kommo and Gestão Click."""

    def __init__(self, cfg: EmulatorConfig):
        self.seed = cfg.seed
        self.size = cfg.people_pool

    def __getitem__(self, index: int) -> Person:
        return make_person(self.seed, index)

    def index_of_email(self, email: str) -> int | None:
        """Person index from an e-mail this pool produced (the index is in the local part)."""
        local = email.strip().lower().split("@", 1)[0]
        digits = ""
        for ch in reversed(local):
            if not ch.isdigit():
                break
            digits = ch + digits
        if not digits:
            return None
        index = int(digits)
        if index < self.size and self[index].email == email.strip().lower():
            return index
        return None


# ============================================================================ Hotmart

# (name, format, is_subscription)
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
        return {
            "subscriber_code": self.subscriber_code(k),
            "subscription_id": self.sub_id_base + k,
            "status": self.sub_status(k),
            "accession_date": accession,
            "date_next_charge": accession + charges * period,
            "plan": {"id": self.plan_id(j, plan), "name": plan_name},
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


# ============================================================================ Kommo

KOMMO_USERS = [10551234, 10551235, 10551236]
KOMMO_PIPELINES = [
    (
        8572511,
        "Funil de vendas",
        [
            (67000001, "Leads de entrada", 1, "#c1c1c1"),
            (67000002, "Contato inicial", 0, "#99ccff"),
            (67000003, "Proposta enviada", 0, "#ffff99"),
            (67000004, "Negociação", 0, "#ffcc66"),
            (142, "Venda ganha", 0, "#ccff66"),
            (143, "Venda perdida", 0, "#d5d8db"),
        ],
    ),
    (
        8572512,
        "Pós-venda",
        [
            (67000011, "Leads de entrada", 1, "#c1c1c1"),
            (67000012, "Onboarding", 0, "#98cbff"),
            (67000013, "Acompanhamento", 0, "#fffeb2"),
            (142, "Cliente ativo", 0, "#ccff66"),
            (143, "Cliente perdido", 0, "#d5d8db"),
        ],
    ),
]
KOMMO_STATUS_WEIGHTS = [0.10, 0.15, 0.12, 0.10, 0.33, 0.20]
CONTACT_ID_BASE = 18_000_000
LEAD_ID_BASE = 15_000_000
PHONE_FIELD_ID, EMAIL_FIELD_ID, UTM_FIELD_ID = 771906, 771908, 771910
PHONE_ENUMS = {
    "WORK": 552476,
    "WORKDD": 552477,
    "MOB": 552478,
    "FAX": 552480,
    "HOME": 552482,
    "OTHER": 552484,
}
EMAIL_ENUMS = {"WORK": 552488, "PRIV": 552490, "OTHER": 552492}


class KommoData:
    def __init__(self, cfg: EmulatorConfig, people: People):
        self.cfg = cfg
        self.people = people
        self.key = f"{cfg.seed}:kommo"
        self.n_contacts = cfg.contacts
        self.n_leads = cfg.leads
        self.now = cfg.now_ts
        self.start = self.now - cfg.span_days * DAY
        self.mult = coprime_multiplier(max(1, self.n_contacts))
        self.offset = h64(self.key, "offset") % max(1, self.n_contacts)

    def updated_at(self, kind: str, i: int) -> int:
        n = self.n_contacts if kind == "contacts" else self.n_leads
        return spread((self.key, kind), i, n, self.start, self.now)

    def created_at(self, kind: str, i: int) -> int:
        updated = self.updated_at(kind, i)
        back = int(unit(self.key, kind, "age", i) * 30 * DAY)
        return max(self.start - 30 * DAY, updated - back)

    def lead_contact(self, lead: int) -> int | None:
        if not self.n_contacts:
            return None
        return (lead * self.mult + self.offset) % self.n_contacts

    def contact_leads(self, contact: int) -> range:
        n = self.n_contacts
        first = ((contact - self.offset) * pow(self.mult, -1, n)) % n if n > 1 else 0
        return range(first, self.n_leads, max(1, n))

    def contact_has_fields(self, i: int) -> bool:
        return unit(self.key, "cf", i) >= 0.05

    def contact_name(self, i: int) -> str:
        return self.people[i].name

    def contact(self, i: int, with_leads: bool = False, href: str = "") -> dict:
        person = self.people[i]
        user = KOMMO_USERS[h64(self.key, "cuser", i) % len(KOMMO_USERS)]
        fields = None
        if self.contact_has_fields(i):
            phone_enum = "MOB" if h64(self.key, "cphone", i) % 3 else "WORK"
            fields = [
                {
                    "field_id": PHONE_FIELD_ID,
                    "field_name": "Phone",
                    "field_code": "PHONE",
                    "field_type": "multitext",
                    "values": [
                        {
                            "value": person.phone_e164,
                            "enum_id": PHONE_ENUMS[phone_enum],
                            "enum_code": phone_enum,
                        }
                    ],
                },
                {
                    "field_id": EMAIL_FIELD_ID,
                    "field_name": "Email",
                    "field_code": "EMAIL",
                    "field_type": "multitext",
                    "values": [
                        {"value": person.email, "enum_id": EMAIL_ENUMS["WORK"], "enum_code": "WORK"}
                    ],
                },
            ]
        cid = CONTACT_ID_BASE + i
        embedded: dict = {"tags": [], "companies": []}
        if with_leads:
            embedded["leads"] = [
                {
                    "id": LEAD_ID_BASE + lead,
                    "_links": {"self": {"href": f"{href}/api/v4/leads/{LEAD_ID_BASE + lead}"}},
                }
                for lead in self.contact_leads(i)
            ]
        return {
            "id": cid,
            "name": person.name,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "responsible_user_id": user,
            "group_id": 0,
            "created_by": user,
            "updated_by": user,
            "created_at": self.created_at("contacts", i),
            "updated_at": self.updated_at("contacts", i),
            "closest_task_at": None,
            "is_deleted": False,
            "is_unsorted": False,
            "custom_fields_values": fields,
            "account_id": self.cfg.kommo_account_id,
            "_links": {"self": {"href": f"{href}/api/v4/contacts/{cid}"}},
            "_embedded": embedded,
        }

    def contact_text(self, i: int) -> str:
        person = self.people[i]
        if not self.contact_has_fields(i):
            return person.name.lower()
        return f"{person.name} {person.email} {person.phone_e164}".lower()

    def lead_pipeline(self, i: int) -> int:
        return 0 if unit(self.key, "lpipe", i) < 0.85 else 1

    def lead_status(self, i: int) -> int:
        pipeline = KOMMO_PIPELINES[self.lead_pipeline(i)]
        statuses = pipeline[2]
        weights = KOMMO_STATUS_WEIGHTS[-len(statuses) :]
        table = [(str(s[0]), w) for s, w in zip(statuses, weights, strict=True)]
        return int(weighted(unit(self.key, "lstatus", i), table))

    def lead_name(self, i: int) -> str:
        if h64(self.key, "lname", i) % 2:
            return f"Pedido #{4000 + i}"
        topic = HOTMART_TOPICS[h64(self.key, "ltopic", i) % len(HOTMART_TOPICS)][0]
        contact = self.lead_contact(i)
        who = self.people[contact].first_name if contact is not None else "Cliente"
        return f"{topic} - {who}"

    def lead(self, i: int, with_contacts: bool = False, href: str = "") -> dict:
        r = rng(self.key, "lead", i)
        pipeline_id = KOMMO_PIPELINES[self.lead_pipeline(i)][0]
        status = self.lead_status(i)
        updated = self.updated_at("leads", i)
        user = KOMMO_USERS[h64(self.key, "luser", i) % len(KOMMO_USERS)]
        lid = LEAD_ID_BASE + i
        fields = None
        if r.random() < 0.3:
            fields = [
                {
                    "field_id": UTM_FIELD_ID,
                    "field_name": "utm_source",
                    "field_code": None,
                    "field_type": "text",
                    "values": [{"value": r.choice(["facebook", "instagram", "google", "youtube"])}],
                }
            ]
        embedded: dict = {"tags": [], "companies": []}
        contact = self.lead_contact(i)
        if with_contacts:
            embedded["contacts"] = (
                []
                if contact is None
                else [
                    {
                        "id": CONTACT_ID_BASE + contact,
                        "is_main": True,
                        "_links": {
                            "self": {"href": f"{href}/api/v4/contacts/{CONTACT_ID_BASE + contact}"}
                        },
                    }
                ]
            )
        return {
            "id": lid,
            "name": self.lead_name(i),
            "price": price_cents(r) // 100,
            "responsible_user_id": user,
            "group_id": 0,
            "status_id": status,
            "pipeline_id": pipeline_id,
            "loss_reason_id": None,
            "created_by": user,
            "updated_by": user,
            "created_at": self.created_at("leads", i),
            "updated_at": updated,
            "closed_at": updated if status in (142, 143) else None,
            "closest_task_at": None,
            "is_deleted": False,
            "custom_fields_values": fields,
            "score": None,
            "account_id": self.cfg.kommo_account_id,
            "labor_cost": None,
            "_links": {"self": {"href": f"{href}/api/v4/leads/{lid}"}},
            "_embedded": embedded,
        }

    def lead_text(self, i: int) -> str:
        return f"{self.lead_name(i)} {LEAD_ID_BASE + i}".lower()

    def pipelines(self, href: str) -> list[dict]:
        out = []
        for sort, (pid, name, statuses) in enumerate(KOMMO_PIPELINES):
            out.append(
                {
                    "id": pid,
                    "name": name,
                    "sort": (sort + 1) * 1000,
                    "is_main": sort == 0,
                    "is_unsorted_on": sort == 0,
                    "is_archive": False,
                    "account_id": self.cfg.kommo_account_id,
                    "_links": {"self": {"href": f"{href}/api/v4/leads/pipelines/{pid}"}},
                    "_embedded": {
                        "statuses": [self.status(pid, s, n, href) for n, s in enumerate(statuses)]
                    },
                }
            )
        return out

    def status(self, pipeline_id: int, status: tuple, n: int, href: str) -> dict:
        sid, name, kind, color = status
        return {
            "id": sid,
            "name": name,
            "sort": 10000 if sid == 142 else 11000 if sid == 143 else (n + 1) * 10,
            "is_editable": sid not in (142, 143),
            "pipeline_id": pipeline_id,
            "color": color,
            "type": kind,
            "account_id": self.cfg.kommo_account_id,
            "_links": {
                "self": {"href": f"{href}/api/v4/leads/pipelines/{pipeline_id}/statuses/{sid}"}
            },
        }

    def account(self, href: str) -> dict:
        cfg = self.cfg
        return {
            "id": cfg.kommo_account_id,
            "name": "Vendas Hub Demo",
            "subdomain": cfg.kommo_subdomain,
            "created_at": self.start - 400 * DAY,
            "created_by": cfg.kommo_user_id,
            "updated_at": self.start,
            "updated_by": cfg.kommo_user_id,
            "current_user_id": cfg.kommo_user_id,
            "country": KOMMO_CURRENCY_COUNTRY.get(cfg.kommo_currency, "BR"),
            "currency": cfg.kommo_currency,
            "currency_symbol": KOMMO_CURRENCY_SYMBOLS.get(cfg.kommo_currency, cfg.kommo_currency),
            "customers_mode": "disabled",
            "is_unsorted_on": True,
            "mobile_feature_version": 0,
            "is_loss_reason_enabled": True,
            "is_helpbot_enabled": False,
            "is_technical_account": False,
            "contact_name_display_order": 1,
            "_links": {"self": {"href": f"{href}/api/v4/account"}},
        }


KOMMO_CURRENCY_SYMBOLS = {"BRL": "R$", "USD": "$", "EUR": "€", "MXN": "$", "ARS": "$", "CLP": "$"}
KOMMO_CURRENCY_COUNTRY = {
    "BRL": "BR",
    "USD": "US",
    "EUR": "PT",
    "MXN": "MX",
    "ARS": "AR",
    "CLP": "CL",
}


# ============================================================================ Gestão Click

GC_SITUACOES = [
    ("3150", "Confirmado", 0.55),
    ("3151", "Em aberto", 0.15),
    ("3152", "Em andamento", 0.1),
    ("3153", "Cancelado", 0.08),
    ("3154", "Concretizada", 0.12),
]
GC_LOJAS = [("279", "Loja Matriz"), ("280", "Loja Online")]
GC_VENDEDORES = [("45", "João da Silva"), ("46", "Ana Paula Ramos"), ("47", "Carlos Eduardo Lima")]
GC_FORMAS = [
    ("579722", "Cartão de Crédito"),
    ("579723", "PIX"),
    ("579724", "Boleto Bancário"),
    ("579725", "Dinheiro"),
]
GC_TIPOS = [("produto", 0.75), ("servico", 0.1), ("vendas_balcao", 0.15)]
GC_GRUPOS = [("101", "Produtos físicos"), ("102", "Cursos e treinamentos"), ("103", "Acessórios")]
GC_PRODUCT_NAMES = [
    ("Cortina Blackout", "101"),
    ("Camiseta Básica Algodão", "101"),
    ("Caneca Personalizada", "103"),
    ("Curso Online de Excel", "102"),
    ("Kit Escritório", "101"),
    ("Mentoria Individual", "102"),
    ("Agenda Planner", "103"),
    ("Livro Finanças Pessoais", "101"),
    ("Workshop Presencial", "102"),
    ("Mochila Executiva", "103"),
    ("Garrafa Térmica", "103"),
    ("Apostila Impressa", "101"),
]
GC_SERVICOS = [("9001", "Consultoria"), ("9002", "Instalação"), ("9003", "Suporte técnico mensal")]
VENDA_ID_BASE, CLIENTE_ID_BASE, PRODUTO_ID_BASE = 8_800_000, 1_150_000, 1_238_000


def ean13(r) -> str:
    body = "789" + "".join(str(r.randrange(10)) for _ in range(9))
    total = sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


class GestaoClickData:
    def __init__(self, cfg: EmulatorConfig, people: People):
        self.cfg = cfg
        self.people = people
        self.key = f"{cfg.seed}:gestaoclick"
        self.n = {"vendas": cfg.gc_sales, "clientes": cfg.gc_clients, "produtos": cfg.gc_products}
        self.now = cfg.now_ts
        self.start = self.now - cfg.span_days * DAY
        self.mult = coprime_multiplier(max(1, cfg.gc_clients))

    def ts(self, resource: str, i: int) -> int:
        start = self.start if resource == "vendas" else self.start - 2 * 365 * DAY
        end = self.now if resource == "vendas" else self.start + 300 * DAY
        return spread((self.key, resource), i, self.n[resource], start, end)

    def index_of_id(self, resource: str, ident: str) -> int | None:
        base = {"vendas": VENDA_ID_BASE, "clientes": CLIENTE_ID_BASE, "produtos": PRODUTO_ID_BASE}[
            resource
        ]
        if not ident.isdigit():
            return None
        i = int(ident) - base
        return i if 0 <= i < self.n[resource] else None

    # ------------------------------------------------------------------ cheap attributes

    def venda_tipo(self, i: int) -> str:
        return weighted(unit(self.key, "vtipo", i), GC_TIPOS)

    def venda_situacao(self, i: int) -> tuple[str, str]:
        sid = weighted(unit(self.key, "vsit", i), [(s[0], s[2]) for s in GC_SITUACOES])
        return sid, next(s[1] for s in GC_SITUACOES if s[0] == sid)

    def venda_cliente(self, i: int) -> int | None:
        n = self.n["clientes"]
        return None if not n else (i * self.mult + h64(self.key, "coff") % n) % n

    def venda_loja(self, i: int) -> tuple[str, str]:
        return GC_LOJAS[0] if unit(self.key, "vloja", i) < 0.7 else GC_LOJAS[1]

    def cliente_pj(self, i: int) -> bool:
        return unit(self.key, "cpj", i) < 0.15

    def cliente_ativo(self, i: int) -> bool:
        return unit(self.key, "cativo", i) >= 0.05

    def produto_ativo(self, j: int) -> bool:
        return unit(self.key, "pativo", j) >= 0.08

    def produto_grupo(self, j: int) -> str:
        return GC_PRODUCT_NAMES[j % len(GC_PRODUCT_NAMES)][1]

    # ------------------------------------------------------------------ records

    def produto_name(self, j: int) -> str:
        name = GC_PRODUCT_NAMES[j % len(GC_PRODUCT_NAMES)][0]
        batch = j // len(GC_PRODUCT_NAMES)
        return f"{name} {batch + 1}" if batch else name

    def produto_price(self, j: int) -> int:
        return price_cents(rng(self.key, "pprice", j))

    def produto(self, j: int) -> dict:
        r = rng(self.key, "produto", j)
        cents = self.produto_price(j)
        cost = cents * r.randrange(35, 65) // 100
        grupo = self.produto_grupo(j)
        created = self.ts("produtos", j)
        modified = created + int(r.random() * (self.now - created))
        pid = PRODUTO_ID_BASE + j
        estoque = r.randrange(0, 500) if grupo != "102" else 0
        return {
            "id": str(pid),
            "nome": self.produto_name(j),
            "codigo_interno": f"P{j + 1:05d}",
            "codigo_barra": ean13(r),
            "possui_variacao": "1",
            "possui_composicao": "0",
            "movimenta_estoque": "1" if grupo != "102" else "0",
            "peso": "0.500",
            "largura": "0.00",
            "altura": "0.00",
            "comprimento": "0.00",
            "ativo": "1" if self.produto_ativo(j) else "0",
            "grupo_id": grupo,
            "nome_grupo": dict(GC_GRUPOS)[grupo],
            "descricao": "",
            "estoque": estoque,
            "valor_custo": money_str(cost),
            "valor_venda": money_str(cents),
            "cadastrado_em": iso_local(created),
            "modificado_em": iso_local(modified),
            "valores": [
                {
                    "valor": {
                        "tipo_id": "90858",
                        "nome_tipo": "Varejo",
                        "lucro_utilizado": f"{(cents - cost) * 100 / cost:.2f}",
                        "valor_custo": money_str(cost),
                        "valor_venda": money_str(cents),
                    }
                }
            ],
            "variacoes": [
                {
                    "variacao": {
                        "id": str(4_152_000 + j),
                        "nome": "Padrão",
                        "estoque": str(estoque),
                        "valores": [
                            {
                                "valor": {
                                    "tipo_id": "90858",
                                    "nome_tipo": "Varejo",
                                    "valor_custo": money_str(cost),
                                    "valor_venda": money_str(cents),
                                }
                            }
                        ],
                    }
                }
            ],
            "fiscal": {
                "ncm": "49019900" if grupo == "102" else "63039200",
                "cest": "",
                "peso_liquido": None,
                "peso_bruto": None,
                "valor_aproximado_tributos": None,
                "valor_fixo_pis": None,
                "valor_fixo_pis_st": None,
                "valor_fixo_confins": None,
                "valor_fixo_confins_st": None,
            },
        }

    def cliente(self, i: int) -> dict:
        person = self.people[i]
        r = rng(self.key, "cliente", i)
        pj = self.cliente_pj(i)
        created = self.ts("clientes", i)
        modified = created + int(r.random() * (self.now - created))
        cnpj = make_cnpj(r) if pj else None
        return {
            "id": str(CLIENTE_ID_BASE + i),
            "tipo_pessoa": "PJ" if pj else "PF",
            "nome": company_name(r, person) if pj else person.name,
            "razao_social": f"{company_name(r, person)} EPP" if pj else None,
            "cnpj": format_cnpj(cnpj) if cnpj else None,
            "cpf": None if pj else format_cpf(person.cpf),
            "rg": None if pj else f"{r.randrange(10**7, 10**8)}-{r.randrange(10)}",
            "inscricao_estadual": str(r.randrange(10**8, 10**9)) if pj else None,
            "inscricao_municipal": None,
            "data_nascimento": None if pj else person.birth_date,
            "telefone": person.landline_br,
            "celular": person.mobile_br,
            "fax": None,
            "email": person.email,
            "ativo": "1" if self.cliente_ativo(i) else "0",
            "vendedor_id": GC_VENDEDORES[i % len(GC_VENDEDORES)][0],
            "nome_vendedor": GC_VENDEDORES[i % len(GC_VENDEDORES)][1],
            "cadastrado_em": iso_local(created),
            "modificado_em": iso_local(modified),
            "contatos": (
                [
                    {
                        "contato": {
                            "tipo_id": "1",
                            "nome_tipo": "Comercial",
                            "nome": person.name,
                            "contato": person.email,
                            "cargo": "Sócio",
                            "observacao": None,
                        }
                    }
                ]
                if pj
                else []
            ),
            "enderecos": [
                {
                    "endereco": {
                        "cep": person.cep,
                        "logradouro": person.street,
                        "numero": person.number,
                        "complemento": None,
                        "bairro": person.bairro,
                        "cidade_id": person.city_id,
                        "nome_cidade": person.city,
                        "estado": person.state,
                    }
                }
            ],
        }

    def cliente_text(self, i: int) -> str:
        return self.cliente(i)["nome"].lower()

    def venda(self, i: int) -> dict:
        r = rng(self.key, "venda", i)
        tipo = self.venda_tipo(i)
        sid, sname = self.venda_situacao(i)
        ts = self.ts("vendas", i)
        ci = self.venda_cliente(i)
        cliente_nome = self.cliente(ci)["nome"] if ci is not None else "Consumidor final"
        vend_id, vend_nome = GC_VENDEDORES[h64(self.key, "vvend", i) % len(GC_VENDEDORES)]
        loja_id, loja_nome = self.venda_loja(i)
        forma_id, forma_nome = GC_FORMAS[h64(self.key, "vforma", i) % len(GC_FORMAS)]
        produtos, servicos, total = [], [], 0
        if tipo == "servico":
            sv_id, sv_nome = r.choice(GC_SERVICOS)
            cents = price_cents(r)
            total = cents
            servicos.append(
                {
                    "servico": {
                        "id": str(7_000_000 + i),
                        "servico_id": sv_id,
                        "nome_servico": sv_nome,
                        "detalhes": "",
                        "quantidade": "1.00",
                        "tipo_valor_id": None,
                        "nome_tipo_valor": None,
                        "valor_venda": money_str(cents),
                        "tipo_desconto": "R$",
                        "desconto_valor": "0.00",
                        "desconto_porcentagem": "0.00",
                        "valor_total": money_str(cents),
                    }
                }
            )
        elif self.n["produtos"]:
            for _ in range(r.choice((1, 1, 1, 2, 3))):
                j = r.randrange(self.n["produtos"])
                qty = r.choice((1, 1, 2, 3))
                unit_cents = self.produto_price(j)
                line = unit_cents * qty
                total += line
                produtos.append(
                    {
                        "produto": {
                            "produto_id": PRODUTO_ID_BASE + j,
                            "variacao_id": 4_152_000 + j,
                            "nome_produto": self.produto_name(j),
                            "detalhes": "",
                            "movimenta_estoque": "1",
                            "possui_variacao": "1",
                            "sigla_unidade": "UND",
                            "quantidade": f"{qty}.00",
                            "tipo_valor_id": "90858",
                            "nome_tipo_valor": "Varejo",
                            "valor_custo": money_str(unit_cents // 2),
                            "valor_venda": money_str(unit_cents),
                            "tipo_desconto": "R$",
                            "desconto_valor": "0.00",
                            "desconto_porcentagem": "0.00",
                            "valor_total": money_str(line),
                        }
                    }
                )
        frete = 0 if tipo != "produto" or r.random() < 0.7 else r.choice((1500, 2290, 3500))
        total += frete
        parcelas = r.choice((1, 1, 2, 3)) if forma_nome == "Cartão de Crédito" else 1
        pagamentos = []
        for k in range(parcelas):
            value = total // parcelas + (total % parcelas if k == parcelas - 1 else 0)
            due = date_local(ts + k * 30 * DAY)
            pagamentos.append(
                {
                    "pagamento": {
                        "data_vencimento": due,
                        "valor": money_str(value),
                        "forma_pagamento_id": forma_id,
                        "nome_forma_pagamento": forma_nome,
                        "plano_contas_id": "2512",
                        "nome_plano_conta": "Receitas de vendas",
                        "observacao": None,
                    }
                }
            )
        return {
            "id": str(VENDA_ID_BASE + i),
            "codigo": str(1000 + i),
            "cliente_id": str(CLIENTE_ID_BASE + ci) if ci is not None else None,
            "nome_cliente": cliente_nome,
            "vendedor_id": vend_id,
            "nome_vendedor": vend_nome,
            "tecnico_id": None,
            "nome_tecnico": None,
            "data": date_local(ts),
            "previsao_entrega": None,
            "situacao_id": sid,
            "nome_situacao": sname,
            "valor_total": money_str(total),
            "transportadora_id": None,
            "nome_transportadora": None,
            "centro_custo_id": "1",
            "nome_centro_custo": "Centro de Custo 01",
            "aos_cuidados_de": None,
            "validade": None,
            "introducao": None,
            "observacoes": None,
            "observacoes_interna": None,
            "valor_frete": money_str(frete),
            "nome_canal_venda": "Loja virtual" if loja_id == "280" else "Balcão",
            "nome_loja": loja_nome,
            "valor_custo": money_str(total // 2),
            "condicao_pagamento": "parcelado" if parcelas > 1 else "a_vista",
            "situacao_financeiro": "1" if sid in ("3150", "3154") else "0",
            "situacao_estoque": "1" if tipo != "servico" else "0",
            "forma_pagamento_id": forma_id,
            "data_primeira_parcela": date_local(ts),
            "numero_parcelas": str(parcelas),
            "intervalo_dias": "30",
            "hash": code(ALNUM_LOWER, 12, self.key, "vhash", i),
            "equipamentos": [],
            "pagamentos": pagamentos,
            "produtos": produtos,
            "servicos": servicos,
            "atributos": [],
        }

    def venda_range(self, start_day: str | None, end_day: str | None) -> tuple[int, int]:
        n = self.n["vendas"]

        def key(i: int) -> int:
            return self.ts("vendas", i)

        lo = 0 if start_day is None else first_at_or_after(n, local_midnight_ts(start_day), key)
        hi = n if end_day is None else first_at_or_after(n, local_midnight_ts(end_day) + DAY, key)
        return lo, max(lo, hi)

    def situacoes(self) -> list[dict]:
        return [
            {"id": sid, "nome": name, "padrao": "1" if sid == "3150" else "0"}
            for sid, name, _ in GC_SITUACOES
        ]

    def lojas(self) -> list[dict]:
        r = rng(self.key, "lojas")
        return [
            {
                "id": lid,
                "nome": name,
                "cnpj": format_cnpj(make_cnpj(r)),
                "matriz": "1" if lid == "279" else "0",
            }
            for lid, name in GC_LOJAS
        ]


class Datasets:
    """All generators of one emulator run."""

    def __init__(self, cfg: EmulatorConfig):
        self.people = People(cfg)
        self.hotmart = {
            env: HotmartData(cfg, env, self.people) for env in ("production", "sandbox")
        }
        self.kommo = KommoData(cfg, self.people)
        self.gc = GestaoClickData(cfg, self.people)
