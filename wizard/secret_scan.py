"""Find files that look like secrets in the commits about to be pushed, before they leave."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wizard import repo
from wizard.errors import BadInput

MAX_SCANNED_BYTES = 2_000_000
# Template files that document variables without holding real values.
_ENV_TEMPLATES = {".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"}
_KEY_FILE_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", "_netrc", ".pgpass"}
_KEY_FILE_SUFFIXES = {".p12", ".pfx", ".keystore", ".jks"}

# (what it looks like, pattern). Patterns are specific prefixes real services issue, so
# ordinary code and placeholders such as "change-me" do not trip them.
_CONTENT_PATTERNS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("a private key", re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("a GitHub token", re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a GitHub token", re.compile(rb"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("a GitLab token", re.compile(rb"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("an AWS access key", re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(rb"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe live key", re.compile(rb"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}")),
    ("a Google API key", re.compile(rb"\bAIza[0-9A-Za-z_\-]{35}")),
    ("an Anthropic API key", re.compile(rb"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    # Real keys mix digits and capitals; that keeps kebab-case names like "sk-spinner-..." out.
    (
        "an OpenAI API key",
        re.compile(rb"\bsk-(?:proj-)?(?=[\w-]*[0-9])(?=[\w-]*[A-Z])[A-Za-z0-9_\-]{32,}"),
    ),
    ("a SendGrid API key", re.compile(rb"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}")),
    ("an npm token", re.compile(rb"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a PyPI token", re.compile(rb"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}")),
)


@dataclass(frozen=True)
class Finding:
    """One file that looks like it holds a secret."""

    path: str
    reason: str
    commit: str = ""  # short sha of the first commit to be pushed that carries it

    def describe(self) -> str:
        where = f" (added in commit {self.commit})" if self.commit else ""
        return f"{self.path}: {self.reason}{where}"


class SecretFound(BadInput):
    """The commits to push carry something that looks like a secret."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        lines = [f"  - {f.describe()}" for f in findings]
        first = findings[0].path
        super().__init__(
            "Refusing to push: these files look like secrets and would be published:\n"
            + "\n".join(lines),
            hint=(
                f"Take them out of git (git rm --cached {first}), add them to .gitignore, and "
                "remove them from the unpushed commits (git commit --amend for the last one). "
                "If a real secret was committed, change it wherever it is used."
            ),
        )


def check_name(path: str) -> str | None:
    """Why a file's name alone marks it as a secret, or None."""
    name = PurePosixPath(path).name
    if name == ".env" or (name.startswith(".env.") and name not in _ENV_TEMPLATES):
        return "an environment file (.env files hold secrets and stay out of git)"
    if name in _KEY_FILE_NAMES:
        return "a private credentials file"
    if PurePosixPath(name).suffix.lower() in _KEY_FILE_SUFFIXES:
        return "a key store"
    return None


def check_content(data: bytes) -> str | None:
    """What secret the bytes seem to contain, or None; binary files are skipped."""
    head = data[:MAX_SCANNED_BYTES]
    if b"\0" in head[:8000]:
        return None
    for what, pattern in _CONTENT_PATTERNS:
        if pattern.search(head):
            return f"contains what looks like {what}"
    return None


def scan(project: Path, rev: str, already_pushed: Iterable[str] = ()) -> list[Finding]:
    """Findings for every file reachable from ``rev`` but not from ``already_pushed``."""
    already_pushed = list(already_pushed)
    findings: list[Finding] = []
    for path, data in repo.unpushed_files(project, rev, already_pushed, MAX_SCANNED_BYTES):
        reason = check_name(path)
        if reason is None and data is not None:
            reason = check_content(data)
        if reason is not None:
            commit = repo.first_commit_with(project, rev, already_pushed, path)
            findings.append(Finding(path, reason, commit))
    return findings


def refuse_secrets(project: Path, rev: str, already_pushed: Iterable[str] = ()) -> None:
    """Raise SecretFound naming each suspicious file in the commits about to be pushed."""
    findings = scan(project, rev, already_pushed)
    if findings:
        raise SecretFound(findings)
