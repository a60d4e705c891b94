"""Sales (vendas), clients (clientes) and products (produtos) synced from Gestão Click.

Kept in their own tables, apart from the shared ``Sale`` table of the purchase webhooks: an
ERP sale has no buyer e-mail, no product access and never an activation link. Amounts are
integer cents; ``modificado_em`` is the platform's timestamp (São Paulo time) as UTC.
``payload_hash`` fingerprints the record as received, so a re-sync can tell "unchanged".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, iso, utcnow


class GcSale(db.Model):
    __tablename__ = "gc_sales"
    __table_args__ = (Index("ix_gc_sales_data_id", "data", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_id: Mapped[str] = mapped_column(String(32), unique=True)
    codigo: Mapped[str | None] = mapped_column(String(64), index=True)
    cliente_id: Mapped[str | None] = mapped_column(String(32), index=True)
    cliente_nome: Mapped[str | None] = mapped_column(String(255))
    vendedor_id: Mapped[str | None] = mapped_column(String(32))
    vendedor_nome: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[date | None] = mapped_column(Date)
    situacao_id: Mapped[str | None] = mapped_column(String(32))
    situacao_nome: Mapped[str | None] = mapped_column(String(120))
    valor_total_cents: Mapped[int | None] = mapped_column(BigInteger)
    valor_frete_cents: Mapped[int | None] = mapped_column(BigInteger)
    tipo: Mapped[str | None] = mapped_column(String(20), index=True)
    loja_id: Mapped[str | None] = mapped_column(String(32))
    loja_nome: Mapped[str | None] = mapped_column(String(255))
    forma_pagamento: Mapped[str | None] = mapped_column(String(120))
    items_count: Mapped[int] = mapped_column(default=0)
    modificado_em: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "remote_id": self.remote_id,
            "codigo": self.codigo,
            "cliente_id": self.cliente_id,
            "cliente_nome": self.cliente_nome,
            "vendedor_nome": self.vendedor_nome,
            "data": iso(self.data),
            "situacao_id": self.situacao_id,
            "situacao_nome": self.situacao_nome,
            "valor_total_cents": self.valor_total_cents,
            "valor_frete_cents": self.valor_frete_cents,
            "tipo": self.tipo,
            "loja_nome": self.loja_nome,
            "forma_pagamento": self.forma_pagamento,
            "items_count": self.items_count,
            "modificado_em": iso(self.modificado_em),
            "last_sync_at": iso(self.last_sync_at),
        }


class GcClient(db.Model):
    __tablename__ = "gc_clients"
    __table_args__ = (Index("ix_gc_clients_nome_id", "nome", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_id: Mapped[str] = mapped_column(String(32), unique=True)
    tipo_pessoa: Mapped[str | None] = mapped_column(String(4))
    nome: Mapped[str] = mapped_column(String(255), default="", index=True)
    razao_social: Mapped[str | None] = mapped_column(String(255))
    cpf_cnpj: Mapped[str | None] = mapped_column(String(14), index=True)  # digits only
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    telefone: Mapped[str | None] = mapped_column(String(40))
    celular: Mapped[str | None] = mapped_column(String(40))
    cidade: Mapped[str | None] = mapped_column(String(120))
    estado: Mapped[str | None] = mapped_column(String(2))
    ativo: Mapped[bool] = mapped_column(default=True)
    cadastrado_em: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modificado_em: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "remote_id": self.remote_id,
            "tipo_pessoa": self.tipo_pessoa,
            "nome": self.nome,
            "razao_social": self.razao_social,
            "cpf_cnpj": self.cpf_cnpj,
            "email": self.email,
            "telefone": self.telefone,
            "celular": self.celular,
            "cidade": self.cidade,
            "estado": self.estado,
            "ativo": self.ativo,
            "modificado_em": iso(self.modificado_em),
            "last_sync_at": iso(self.last_sync_at),
        }


class GcProduct(db.Model):
    __tablename__ = "gc_products"
    __table_args__ = (Index("ix_gc_products_nome_id", "nome", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_id: Mapped[str] = mapped_column(String(32), unique=True)
    nome: Mapped[str] = mapped_column(String(255), default="", index=True)
    codigo_interno: Mapped[str | None] = mapped_column(String(64), index=True)
    codigo_barra: Mapped[str | None] = mapped_column(String(64))
    ativo: Mapped[bool] = mapped_column(default=True)
    estoque: Mapped[float | None] = mapped_column(Float)
    valor_custo_cents: Mapped[int | None] = mapped_column(BigInteger)
    valor_venda_cents: Mapped[int | None] = mapped_column(BigInteger)
    grupo_id: Mapped[str | None] = mapped_column(String(32))
    grupo_nome: Mapped[str | None] = mapped_column(String(255))
    cadastrado_em: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modificado_em: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "remote_id": self.remote_id,
            "nome": self.nome,
            "codigo_interno": self.codigo_interno,
            "codigo_barra": self.codigo_barra,
            "ativo": self.ativo,
            "estoque": self.estoque,
            "valor_custo_cents": self.valor_custo_cents,
            "valor_venda_cents": self.valor_venda_cents,
            "grupo_id": self.grupo_id,
            "grupo_nome": self.grupo_nome,
            "modificado_em": iso(self.modificado_em),
            "last_sync_at": iso(self.last_sync_at),
        }
