"""Deterministic fake data (CPF/CNPJ checked independently), the env lines and a live server."""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
from pathlib import Path

import requests

from emulator import EmulatorConfig, create_app, env_vars
from emulator.__main__ import config_from_args, serve_parser
from emulator.datasets import Datasets
from emulator.fake import brl, make_cnpj, make_cpf, make_person

ROOT = Path(__file__).resolve().parents[2]


def cpf_ok(cpf: str) -> bool:
    digits = [int(c) for c in cpf if c.isdigit()]
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    for n in (9, 10):
        total = sum(d * w for d, w in zip(digits[:n], range(n + 1, 1, -1), strict=False))
        if (total * 10) % 11 % 10 != digits[n]:
            return False
    return True


def cnpj_ok(cnpj: str) -> bool:
    digits = [int(c) for c in cnpj if c.isdigit()]
    if len(digits) != 14:
        return False
    for n in (12, 13):
        weights = list(range(n - 7, 1, -1)) + list(range(9, 1, -1))
        remainder = sum(d * w for d, w in zip(digits[:n], weights, strict=True)) % 11
        if (0 if remainder < 2 else 11 - remainder) != digits[n]:
            return False
    return True


def test_known_documents_validate():
    assert cpf_ok("529.982.247-25") and not cpf_ok("529.982.247-24")
    assert cnpj_ok("11.222.333/0001-81") and not cnpj_ok("11.222.333/0001-80")


def test_generated_cpfs_and_cnpjs_have_valid_check_digits():
    r = random.Random(1)
    assert all(cpf_ok(make_cpf(r)) for _ in range(500))
    assert all(cnpj_ok(make_cnpj(r)) for _ in range(500))


def test_gestaoclick_clients_have_valid_documents(make_client):
    data = Datasets(EmulatorConfig(gc_clients=300)).gc
    clientes = [data.cliente(i) for i in range(300)]
    assert all(cpf_ok(c["cpf"]) for c in clientes if c["tipo_pessoa"] == "PF")
    pj = [c for c in clientes if c["tipo_pessoa"] == "PJ"]
    assert pj and all(cnpj_ok(c["cnpj"]) for c in pj)


def test_record_i_is_deterministic_and_seed_dependent():
    a, b = Datasets(EmulatorConfig(seed=1)), Datasets(EmulatorConfig(seed=1))
    assert a.hotmart["sandbox"].sale(77) == b.hotmart["sandbox"].sale(77)
    assert a.kommo.contact(5) == b.kommo.contact(5)
    assert a.gc.venda(9) == b.gc.venda(9)
    # independent of the resource size and of the order of generation
    big = Datasets(EmulatorConfig(seed=1, contacts=100_000))
    assert big.kommo.contact(5)["name"] == a.kommo.contact(5)["name"]
    other = Datasets(EmulatorConfig(seed=2))
    assert other.kommo.contact(5)["name"] != a.kommo.contact(5)["name"] or (
        other.kommo.contact(6)["name"] != a.kommo.contact(6)["name"]
    )
    assert make_person(1, 3) == make_person(1, 3)
    # the same person appears across APIs (shared buyer pool)
    assert a.kommo.contact(5)["custom_fields_values"] is None or (
        a.gc.cliente(5)["email"] in str(a.kommo.contact(5)["custom_fields_values"])
    )


def test_money_formatting():
    assert brl(116980) == "R$ 1.169,80"
    assert brl(9700) == "R$ 97,00"


def test_env_lines_are_shell_quoted_and_complete():
    out = subprocess.run(
        [sys.executable, "-m", "emulator", "env", "--port", "5099"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    values = {}
    for line in out.strip().splitlines():
        words = shlex.split(line)
        assert words[0] == "export"
        name, _, value = words[1].partition("=")
        values[name] = value
    assert set(values) >= {
        "HOTMART_API_URL",
        "HOTMART_AUTH_URL",
        "HOTMART_CLIENT_ID",
        "HOTMART_CLIENT_SECRET",
        "KOMMO_API_URL",
        "KOMMO_JWT_TOKEN",
        "GESTAOCLICK_API_URL",
        "GESTAOCLICK_ACCESS_TOKEN",
        "GESTAOCLICK_SECRET_TOKEN",
        "HOTMART_ENV",
    }
    assert values["HOTMART_ENV"] == "sandbox"
    assert values["HOTMART_API_URL"] == "http://127.0.0.1:5099/hotmart/sandbox"
    assert values["HOTMART_AUTH_URL"] == "http://127.0.0.1:5099/hotmart/auth/security/oauth/token"
    assert values["KOMMO_API_URL"] == "http://127.0.0.1:5099/kommo"
    assert values["GESTAOCLICK_API_URL"] == "http://127.0.0.1:5099/gestaoclick/api"
    assert values == env_vars(EmulatorConfig(), "127.0.0.1", 5099)


def test_env_printed_elsewhere_drives_a_live_emulator(live_server):
    """The URL conventions of README.md, exercised with requests against a threaded server."""
    base = live_server(create_app(EmulatorConfig(seed=11, products=3)))
    port = int(base.rsplit(":", 1)[1])
    env = env_vars(EmulatorConfig(seed=11), "127.0.0.1", port)
    token = requests.post(
        env["HOTMART_AUTH_URL"],
        params={
            "grant_type": "client_credentials",
            "client_id": env["HOTMART_CLIENT_ID"],
            "client_secret": env["HOTMART_CLIENT_SECRET"],
        },
        auth=(env["HOTMART_CLIENT_ID"], env["HOTMART_CLIENT_SECRET"]),
        timeout=5,
    ).json()["access_token"]
    products = requests.get(
        env["HOTMART_API_URL"] + "/products/api/v1/products",
        params={"max_results": 1},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert products.status_code == 200 and len(products.json()["items"]) == 1
    account = requests.get(
        env["KOMMO_API_URL"] + "/api/v4/account",
        headers={"Authorization": f"Bearer {env['KOMMO_JWT_TOKEN']}"},
        timeout=5,
    )
    assert account.status_code == 200 and account.json()["currency"] == "BRL"
    lojas = requests.get(
        env["GESTAOCLICK_API_URL"] + "/lojas",
        timeout=5,
        headers={
            "access-token": env["GESTAOCLICK_ACCESS_TOKEN"],
            "secret-access-token": env["GESTAOCLICK_SECRET_TOKEN"],
        },
    )
    assert lojas.status_code == 200 and lojas.json()["data"]
    served_env = requests.get(f"{base}/_emulator/env", timeout=5).text
    assert f"export KOMMO_API_URL=http://127.0.0.1:{port}/kommo" in served_env


def test_cli_flags_build_the_config():
    args = serve_parser().parse_args(
        [
            "--port",
            "6000",
            "--seed",
            "9",
            "--sales",
            "100000",
            "--gc-clients",
            "7",
            "--latency-ms",
            "50",
            "--error-rate",
            "0.2",
            "--error-status",
            "503",
            "--fault-api",
            "kommo",
            "--no-rate-limits",
            "--now",
            "2026-01-31",
        ]
    )
    cfg = config_from_args(args)
    assert cfg.seed == 9 and cfg.sales == 100_000 and cfg.gc_clients == 7
    assert cfg.rate_limits_enabled is False
    assert cfg.now.isoformat() == "2026-01-31T00:00:00+00:00"
    assert cfg.faults == [{"api": "kommo", "latency_ms": 50, "error_rate": 0.2, "status": 503}]
    assert config_from_args(serve_parser().parse_args([])).faults == []


def test_python_m_emulator_serves_and_prints_env(tmp_path):
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "out.txt"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "--port", str(port), "--sales", "100000"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    health = requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)
            assert health.json()["sizes"]["sales"] == 100_000
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert f"export HOTMART_API_URL=http://127.0.0.1:{port}/hotmart/sandbox" in log.read_text()
