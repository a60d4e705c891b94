"""Kommo's generated records: users, pipelines, contacts, leads (see ``datasets``)."""

from __future__ import annotations

from .config import EmulatorConfig
from .datasets_common import (
    DAY,
    People,
    coprime_multiplier,
    spread,
)
from .datasets_hotmart import HOTMART_TOPICS
from .fake import (
    h64,
    price_cents,
    rng,
    unit,
    weighted,
)

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
CPF_FIELD_ID = 771912  # a text field of contacts, when the account has one (kommo_cpf_field)
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
