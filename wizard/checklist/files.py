"""Checks of the project's files and git history: secrets, CORS settings, the Dockerfile."""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from pathlib import Path

import yaml

from wizard import envfile
from wizard.checklist.context import CheckContext, check
from wizard.checklist.results import Finding, Outcome, Skip

MIN_KEY_BYTES = 32
SIGNING_KEYS = ("SECRET_KEY", "JWT_SECRET", "JWT_SECRET_KEY", "SIGNING_KEY")
_PLACEHOLDER_WORDS = re.compile(
    r"change|example|placeholder|secret|password|your[-_]|default|dummy|sample|test|todo|xxx|"
    r"development|insecure",
    re.IGNORECASE,
)
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def _git(project: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=project, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Skip(f"git could not be run: {exc}") from None
    if result.returncode not in (0, 1):
        raise Skip(f"git {args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _need_git(project: Path) -> None:
    if not (project / ".git").exists():
        raise Skip(f"{project} is not a git repository")


@check("project.env_ignored")
def env_ignored(ctx: CheckContext) -> Outcome:
    """.env is git-ignored, so `git add .` can never pick it up."""
    project = ctx.need_project()
    _need_git(project)
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", envfile.ENV_FILE],
        cwd=project,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if ignored.returncode == 0:
        return Outcome.of([])
    return Outcome.of(
        [Finding(".env is not listed in .gitignore, so git would commit it", path=".gitignore")]
    )


@check("project.no_committed_secrets")
def no_committed_secrets(ctx: CheckContext) -> Outcome:
    """No environment file, key file or known token, and not the signing key, in any commit."""
    from wizard import secret_scan
    from wizard.errors import ShipyardError

    project = ctx.need_project()
    _need_git(project)
    if not _git(project, "rev-parse", "--verify", "-q", "HEAD").strip():
        raise Skip("the repository has no commits yet")
    try:
        found = secret_scan.scan(project, "--all")
    except ShipyardError as exc:
        raise Skip(exc.message) from None
    findings = [
        Finding(
            f"{item.path} is in the git history"
            + (f" (commit {item.commit})" if item.commit else "")
            + f": {item.reason}; anyone with the repository can read it",
            path=item.path,
        )
        for item in found
    ]
    env = envfile.read_env(project)
    for key in SIGNING_KEYS:
        value = env.get(key, "")
        if len(value) < 16 or key_problem(value):
            continue
        commits = _git(project, "log", "--all", "--format=%h", "-S", value).split()
        if commits:
            findings.append(
                Finding(
                    f"the {key} from .env appears in commit {commits[-1]}: treat it as leaked",
                    path=envfile.ENV_FILE,
                )
            )
    return Outcome.of(findings)


def _entropy_bits(value: str) -> float:
    """Shannon entropy of the characters times the length: a rough bound on randomness."""
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def _decoded_bytes(value: str) -> int:
    """How many bytes the key carries, read as hex or base64 where it looks like either."""
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return len(value) // 2
    if re.fullmatch(r"[A-Za-z0-9_\-+/=]+", value):
        return len(value.rstrip("=")) * 6 // 8
    return len(value.encode())


def key_problem(value: str) -> str | None:
    """Why a signing key is unsafe, or None when it looks like 32+ random bytes."""
    stripped = value.strip()
    if not stripped:
        return "it is empty"
    if _PLACEHOLDER_WORDS.search(stripped) and _decoded_bytes(stripped) < 64:
        return "it looks like a placeholder, not a random value"
    if _decoded_bytes(stripped) < MIN_KEY_BYTES:
        return f"it carries fewer than {MIN_KEY_BYTES} random bytes ({len(stripped)} characters)"
    if _entropy_bits(stripped) < MIN_KEY_BYTES * 8 * 0.6:
        return "it is too repetitive to be random"
    return None


@check("project.signing_key_strength")
def signing_key(ctx: CheckContext) -> Outcome:
    """The token signing key in .env is at least 32 random bytes, not a placeholder."""
    project = ctx.need_project()
    env = envfile.read_env(project)
    if not env:
        raise Skip(f"{project / envfile.ENV_FILE} does not exist; the settings come from elsewhere")
    findings: list[Finding] = []
    present = [key for key in SIGNING_KEYS if key in env]
    if "SECRET_KEY" not in present:
        findings.append(Finding("SECRET_KEY is not set in .env", path=envfile.ENV_FILE))
    for key in present:
        problem = key_problem(env[key])
        if problem:
            findings.append(Finding(f"{key} in .env is unsafe: {problem}", path=envfile.ENV_FILE))
    return Outcome.of(findings)


def _compose_environment(project: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(file, service, environment) for every service of the project's compose files."""
    found: list[tuple[str, str, dict[str, str]]] = []
    for name, service, body in _compose_services(project):
        env = body.get("environment")
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env if isinstance(item, str) and "=" in item)
        if isinstance(env, dict):
            found.append((name, service, {str(k): str(v) for k, v in env.items()}))
    return found


def _wildcard(origins: str) -> bool:
    return any(part.strip().strip("'\"") == "*" for part in re.split(r"[,\s\[\]]+", origins))


@check("project.cors_production")
def cors(ctx: CheckContext) -> Outcome:
    """No configuration lets every website call the API (CORS origin `*`)."""
    project = ctx.need_project()
    findings: list[Finding] = []
    env = envfile.read_env(project)
    if _wildcard(env.get("CORS_ORIGINS", "")):
        environment = env.get("ENVIRONMENT", "development")
        findings.append(
            Finding(
                f"CORS_ORIGINS in .env is '*' (ENVIRONMENT={environment}): any website may call "
                "the API with your users' credentials",
                path=envfile.ENV_FILE,
                actual=env["CORS_ORIGINS"],
            )
        )
    for name, service, values in _compose_environment(project):
        if _wildcard(values.get("CORS_ORIGINS", "")):
            findings.append(
                Finding(f"service {service} in {name} sets CORS_ORIGINS to '*'", path=name)
            )
    example = project / envfile.EXAMPLE_FILE
    if example.is_file():
        for number, line in enumerate(example.read_text(encoding="utf-8").splitlines(), 1):
            key, _, value = line.partition("=")
            if key.strip() == "CORS_ORIGINS" and _wildcard(value):
                findings.append(
                    Finding(
                        f"{envfile.EXAMPLE_FILE} suggests CORS_ORIGINS='*'",
                        path=envfile.EXAMPLE_FILE,
                        line=number,
                    )
                )
    return Outcome.of(findings)


def dockerfile_problems(text: str) -> list[tuple[str, str, int | None]]:
    """What is wrong with a Dockerfile's final stage: runs as root, or no HEALTHCHECK."""
    instructions: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        instructions.append((start, word.upper(), rest.strip()))
    last_from = max((i for i, (_, word, _) in enumerate(instructions) if word == "FROM"), default=0)
    final = instructions[last_from:]
    problems: list[tuple[str, str, int | None]] = []
    users = [(number, rest) for number, word, rest in final if word == "USER"]
    if not users:
        problems.append(
            ("user", "it never switches to an unprivileged USER, so the API runs as root", None)
        )
    else:
        number, user = users[-1]
        name = user.split(":")[0].strip()
        if name in ("root", "0"):
            problems.append(("user", f"USER {user} runs the API as root", number))
    checks = [(number, rest) for number, word, rest in final if word == "HEALTHCHECK"]
    if not checks:
        problems.append(
            (
                "healthcheck",
                "it has no HEALTHCHECK, so Docker cannot tell when the API is stuck",
                None,
            )
        )
    elif checks[-1][1].upper().startswith("NONE"):
        problems.append(
            ("healthcheck", "HEALTHCHECK NONE turns the health check off", checks[-1][0])
        )
    return problems


def _dockerfile(ctx: CheckContext) -> str:
    path = ctx.need_project() / "Dockerfile"
    if not path.is_file():
        raise Skip("the project has no Dockerfile")
    return path.read_text(encoding="utf-8")


def _compose_services(project: Path) -> list[tuple[str, str, dict[str, object]]]:
    found: list[tuple[str, str, dict[str, object]]] = []
    for name in COMPOSE_FILES:
        path = project / name
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        services = data.get("services") if isinstance(data, dict) else None
        for service, body in (services or {}).items():
            if isinstance(body, dict):
                found.append((name, str(service), body))
    return found


@check("project.dockerfile_non_root")
def dockerfile_non_root(ctx: CheckContext) -> Outcome:
    """The API container runs as an unprivileged user."""
    text = _dockerfile(ctx)
    findings = [
        Finding(f"Dockerfile: {message}", path="Dockerfile", line=line)
        for kind, message, line in dockerfile_problems(text)
        if kind == "user"
    ]
    for name, service, body in _compose_services(ctx.need_project()):
        user = str(body.get("user", ""))
        if user.split(":")[0] in ("root", "0"):
            findings.append(
                Finding(f"service {service} in {name} runs as root (user: {user})", path=name)
            )
    return Outcome.of(findings)


@check("project.dockerfile_healthcheck")
def dockerfile_healthcheck(ctx: CheckContext) -> Outcome:
    """The API image declares a HEALTHCHECK."""
    findings = [
        Finding(f"Dockerfile: {message}", path="Dockerfile", line=line)
        for kind, message, line in dockerfile_problems(_dockerfile(ctx))
        if kind == "healthcheck"
    ]
    return Outcome.of(findings)
