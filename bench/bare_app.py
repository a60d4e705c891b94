"""The baseline for bench_ingest.py: the least a webhook endpoint can do — a constant-time
token check and one durable insert — as a bare Flask app served by the same gunicorn.

``BARE_DATABASE_URL``: the same database kind as the product's run (SQLite file in WAL mode with
the product's pragmas, or PostgreSQL); ``BARE_TOKEN``: the expected ``X-HOTMART-HOTTOK``.
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError

app = Flask(__name__)
TOKEN = os.environ.get("BARE_TOKEN", "")
engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_pre_ping=True)

if engine.dialect.name == "sqlite":

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


ID = "INTEGER PRIMARY KEY" if engine.dialect.name == "sqlite" else "BIGSERIAL PRIMARY KEY"
try:
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS bare_events (id {ID}, body TEXT NOT NULL)"))
except DBAPIError:  # the other gunicorn worker created it at the same moment (PostgreSQL)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1 FROM bare_events LIMIT 1"))


@app.post("/webhook/hotmart")
def receive():
    token = request.headers.get("X-HOTMART-HOTTOK", "")
    if not hmac.compare_digest(token.encode(), TOKEN.encode()):
        return jsonify({"status": "unauthorized"}), 401
    body = request.get_data(as_text=True)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.execute(text("INSERT INTO bare_events (body) VALUES (:b)"), {"b": body})
        conn.commit()
    return jsonify({"status": "accepted"})


@app.get("/healthz")
def health():
    return jsonify({"status": "ok"})
