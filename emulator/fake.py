"""Deterministic Brazilian fake data: names, e-mails, phones, CPF/CNPJ, money, hashes.

Everything here is a pure function of its arguments, so record ``i`` of a resource can be
rebuilt at any time from ``(seed, resource, i)`` without materialising its neighbours.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Shared with the webhook samples (one copy): valid CPF/CNPJ, reais, R$ text.
from webhook_samples.values import (  # noqa: F401
    brl,
    cnpj_check_digits,
    cpf_check_digits,
    make_cnpj,
    make_cpf,
    reais,
)

FIRST_NAMES_F = [
    "Ana", "Beatriz", "Camila", "Carla", "Daniela", "Eduarda", "Fernanda", "Gabriela",
    "Helena", "Isabela", "Juliana", "Larissa", "Leticia", "Luana", "Mariana", "Maria",
    "Natalia", "Patricia", "Rafaela", "Renata", "Sofia", "Tatiane", "Valentina", "Vitoria",
    "Aline", "Bruna", "Claudia", "Debora", "Elaine", "Francisca", "Giovana", "Jessica",
]  # fmt: skip
FIRST_NAMES_M = [
    "Andre", "Bruno", "Carlos", "Daniel", "Eduardo", "Felipe", "Gabriel", "Gustavo",
    "Henrique", "Igor", "Joao", "Jose", "Leonardo", "Lucas", "Marcelo", "Mateus",
    "Nicolas", "Otavio", "Paulo", "Pedro", "Rafael", "Rodrigo", "Samuel", "Thiago",
    "Vinicius", "Wagner", "Antonio", "Francisco", "Luiz", "Miguel", "Arthur", "Diego",
]  # fmt: skip
ACCENTED = {
    "Leticia": "Letícia", "Natalia": "Natália", "Patricia": "Patrícia", "Vitoria": "Vitória",
    "Claudia": "Cláudia", "Debora": "Débora", "Jessica": "Jéssica", "Andre": "André",
    "Joao": "João", "Jose": "José", "Otavio": "Otávio", "Vinicius": "Vinícius",
    "Antonio": "Antônio", "Conceicao": "Conceição", "Simoes": "Simões", "Goncalves": "Gonçalves",
    "Araujo": "Araújo", "Brandao": "Brandão", "Falcao": "Falcão", "Assuncao": "Assunção",
}  # fmt: skip
SURNAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
    "Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade",
    "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos",
    "Goncalves", "Santana", "Teixeira", "Araujo", "Correia", "Pinto", "Moura", "Cavalcanti",
    "Brandao", "Falcao", "Simoes", "Conceicao", "Assuncao", "Monteiro", "Batista", "Campos",
]  # fmt: skip
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]

# (area code, city, state, IBGE-like city id, CEP prefix)
CITIES = [
    ("11", "São Paulo", "SP", "5270", "01"),
    ("21", "Rio de Janeiro", "RJ", "4784", "20"),
    ("31", "Belo Horizonte", "MG", "1716", "30"),
    ("41", "Curitiba", "PR", "3788", "80"),
    ("51", "Porto Alegre", "RS", "4442", "90"),
    ("61", "Brasília", "DF", "804", "70"),
    ("71", "Salvador", "BA", "476", "40"),
    ("81", "Recife", "PE", "3574", "50"),
    ("85", "Fortaleza", "CE", "996", "60"),
    ("62", "Goiânia", "GO", "1152", "74"),
    ("48", "Florianópolis", "SC", "4500", "88"),
    ("92", "Manaus", "AM", "242", "69"),
    ("19", "Campinas", "SP", "5184", "13"),
    ("27", "Vitória", "ES", "1080", "29"),
]
STREETS = [
    "Rua das Flores", "Avenida Paulista", "Rua XV de Novembro", "Avenida Brasil",
    "Rua Sete de Setembro", "Rua da Consolação", "Avenida Rio Branco", "Rua Augusta",
    "Rua Barão do Rio Branco", "Avenida Getúlio Vargas", "Rua Tiradentes", "Rua São José",
]  # fmt: skip
BAIRROS = ["Centro", "Bela Vista", "Jardim América", "Vila Nova", "Boa Vista", "Santa Cecília"]
COMPANY_WORDS = [
    "Soluções", "Comércio", "Serviços", "Digital", "Educação", "Tecnologia", "Consultoria",
    "Marketing", "Distribuidora", "Cursos", "Editora", "Academia",
]  # fmt: skip


def h64(*parts: object) -> int:
    """A stable 64-bit hash of the parts (cheap attributes without building a record)."""
    data = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def unit(*parts: object) -> float:
    """A stable float in [0, 1) from the parts."""
    return h64(*parts) / 2**64


def rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from the parts (e.g. seed, resource, index)."""
    return random.Random(":".join(str(p) for p in parts))


def weighted(u: float, table: list[tuple[str, float]]) -> str:
    """Pick a key from ``[(key, weight), ...]`` with a uniform ``u`` in [0, 1)."""
    total = sum(w for _, w in table)
    acc = 0.0
    for key, w in table:
        acc += w / total
        if u < acc:
            return key
    return table[-1][0]


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# ---------------------------------------------------------------------------- documents


def format_cpf(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def format_cnpj(cnpj: str) -> str:
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


# ---------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    ddd: str
    mobile: str  # 9 digits, starts with 9
    landline: str  # 8 digits
    cpf: str
    city: str
    state: str
    city_id: str
    cep: str
    street: str
    number: str
    bairro: str
    birth_date: str  # YYYY-MM-DD

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def phone_e164(self) -> str:
        return f"+55{self.ddd}{self.mobile}"

    @property
    def mobile_br(self) -> str:
        m = self.mobile
        return f"({self.ddd}) {m[0]} {m[1:5]}-{m[5:]}"

    @property
    def landline_br(self) -> str:
        return f"({self.ddd}) {self.landline[:4]}-{self.landline[4:]}"


def make_person(seed: int, index: int) -> Person:
    """Person ``index`` of the shared pool: the same buyer can appear in every API."""
    r = rng(seed, "person", index)
    female = r.random() < 0.5
    first = r.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
    last_a = r.choice(SURNAMES)
    last_b = r.choice(SURNAMES)
    last = last_a if last_a == last_b or r.random() < 0.4 else f"{last_a} {last_b}"
    first_disp = ACCENTED.get(first, first)
    last_disp = " ".join(ACCENTED.get(p, p) for p in last.split())
    local_style = r.randrange(4)
    f_, l_ = first.lower(), last.split()[-1].lower()
    local = [f"{f_}.{l_}", f"{f_}{l_}", f"{f_}_{l_}", f"{f_[0]}{l_}"][local_style]
    email = f"{local}{index}@{r.choice(EMAIL_DOMAINS)}"
    ddd, city, state, city_id, cep_prefix = r.choice(CITIES)
    mobile = "9" + "".join(str(r.randrange(10)) for _ in range(8))
    landline = str(r.randrange(2, 6)) + "".join(str(r.randrange(10)) for _ in range(7))
    cpf = make_cpf(r)
    cep = f"{cep_prefix}{r.randrange(1000):03d}-{r.randrange(1000):03d}"
    year = r.randrange(1955, 2005)
    birth = f"{year}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"
    return Person(
        first_name=first_disp,
        last_name=last_disp,
        email=email,
        ddd=ddd,
        mobile=mobile,
        landline=landline,
        cpf=cpf,
        city=city,
        state=state,
        city_id=city_id,
        cep=cep,
        street=r.choice(STREETS),
        number=str(r.randrange(1, 3000)),
        bairro=r.choice(BAIRROS),
        birth_date=birth,
    )


def company_name(r: random.Random, person: Person) -> str:
    return f"{person.last_name.split()[-1]} {r.choice(COMPANY_WORDS)} Ltda"


# ---------------------------------------------------------------------------- money

PRICE_POINTS = [4700, 6700, 9700, 12700, 14700, 19700, 29700, 39700, 49700, 99700, 149700]


def price_cents(r: random.Random) -> int:
    """A plausible BRL price in cents (R$ 47,00 … R$ 1.497,00, sometimes ,90)."""
    cents = r.choice(PRICE_POINTS)
    if r.random() < 0.3:
        cents -= 10
    return cents


def money_str(cents: int) -> str:
    """Cents → ``"1234.56"`` (Gestão Click style)."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
