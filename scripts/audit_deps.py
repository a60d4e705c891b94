"""Audit the pinned requirements with pip-audit: fatal on vulnerabilities, not on the network.

Exit status:
  0  no known vulnerability; or the audit could not run (no network, the vulnerability
     service unreachable) — said loudly, so CI is not failed by a machine without access
  1  at least one pinned (or transitively installed) package has a known vulnerability
  2  with --strict: also when the audit could not run or skipped a package

Usage: python scripts/audit_deps.py [--strict] [extra pip-audit arguments]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    extra = [a for a in argv if a != "--strict"]
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off"]
        for name in REQUIREMENTS:
            command += ["-r", str(ROOT / name)]
        command += ["--format", "json", "--output", str(report_path), *extra]
        print("pip-audit of", ", ".join(REQUIREMENTS), flush=True)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return _not_run(f"{type(exc).__name__}: {exc}", strict)
        report = _load(report_path)
        if report is None:
            tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-5:])
            return _not_run(f"pip-audit exited {done.returncode}:\n{tail}", strict)
    return _summarize(report, strict)


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _not_run(reason: str, strict: bool) -> int:
    print(f"WARNING: dependency audit could not run (network?): {reason}", file=sys.stderr)
    return 2 if strict else 0


def _summarize(report: dict, strict: bool) -> int:
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    print(f"{len(deps)} packages: {audited} audited, {len(skipped)} skipped")
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            print(
                f"VULNERABLE {dep['name']}=={dep.get('version')}: {vuln['id']}"
                f"{f' ({aliases})' if aliases else ''} — fixed in {fixes}"
            )
    for dep in skipped:
        print(f"  skipped {dep['name']}: {dep['skip_reason']}")
    if skipped and not audited:
        print(
            "WARNING: nothing could be audited (the vulnerability service did not answer for "
            "these versions); run `make audit` where it does.",
            file=sys.stderr,
        )
    if vulnerable:
        print(f"{len(vulnerable)} vulnerable package(s): bump the pins above.", file=sys.stderr)
        return 1
    print("No known vulnerabilities in the audited packages.")
    return 2 if strict and skipped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
