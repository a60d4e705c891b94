"""scripts/audit_deps.py: fatal on a known vulnerability, never for lack of network."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit_deps.py"


@pytest.fixture
def audit_deps():
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_pip_audit(monkeypatch, report: dict | None, returncode: int, stderr: str = ""):
    def run(command, **kwargs):
        if report is not None:
            out = Path(command[command.index("--output") + 1])
            out.write_text(json.dumps(report))
        return subprocess.CompletedProcess(command, returncode, stdout="", stderr=stderr)

    monkeypatch.setattr(subprocess, "run", run)


CLEAN = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}], "fixes": []}
VULNERABLE = {
    "dependencies": [
        {
            "name": "werkzeug",
            "version": "3.0.0",
            "vulns": [
                {
                    "id": "PYSEC-2023-221",
                    "fix_versions": ["3.0.1"],
                    "aliases": ["CVE-2023-46136"],
                    "description": "DoS",
                }
            ],
        },
        {"name": "flask", "version": "3.1.3", "vulns": []},
    ],
    "fixes": [],
}
SKIPPED = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}]}


def test_clean_report_passes(audit_deps, monkeypatch, capsys):
    _fake_pip_audit(monkeypatch, CLEAN, 0)
    assert audit_deps.main([]) == 0
    assert "1 audited, 0 skipped" in capsys.readouterr().out


def test_a_vulnerability_fails_and_names_the_fix(audit_deps, monkeypatch, capsys):
    _fake_pip_audit(monkeypatch, VULNERABLE, 1)
    assert audit_deps.main([]) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE werkzeug==3.0.0: PYSEC-2023-221 (CVE-2023-46136)" in out
    assert "fixed in 3.0.1" in out


def test_no_network_only_warns_unless_strict(audit_deps, monkeypatch, capsys):
    _fake_pip_audit(monkeypatch, None, 1, stderr="requests.exceptions.ConnectionError: boom")
    assert audit_deps.main([]) == 0
    assert "could not run" in capsys.readouterr().err
    assert audit_deps.main(["--strict"]) == 2


def test_skipped_packages_are_listed_not_fatal(audit_deps, monkeypatch, capsys):
    _fake_pip_audit(monkeypatch, SKIPPED, 0)
    assert audit_deps.main([]) == 0
    captured = capsys.readouterr()
    assert "skipped flask" in captured.out and "nothing could be audited" in captured.err
    assert audit_deps.main(["--strict"]) == 2
