"""The wizard's answers that are secrets: kept in the project's git-ignored .env, never in
shipyard.yaml or a saved draft."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wizard import envfile


@dataclass
class EnvAnswers:
    """Where alerts go (an apprise URL) and an optional error monitor's DSN; empty: not set."""

    alert_url: str = ""
    sentry_dsn: str = ""

    def values(self) -> dict[str, str]:
        """The .env settings these answers give (only those answered)."""
        from wizard.checklist.monitoring import ALERT_URL, SENTRY_DSN

        pairs = {ALERT_URL: self.alert_url.strip(), SENTRY_DSN: self.sentry_dsn.strip()}
        return {key: value for key, value in pairs.items() if value}

    def problems(self) -> dict[str, str]:
        """{"alert_url" | "sentry_dsn": why it cannot be used}, never repeating the secret."""
        from wizard.checklist.monitoring import alert_url_problem, dsn_problem

        found: dict[str, str] = {}
        if self.alert_url.strip() and (problem := alert_url_problem(self.alert_url.strip())):
            found["alert_url"] = f"That alert destination {problem}."
        if self.sentry_dsn.strip() and (problem := dsn_problem(self.sentry_dsn.strip())):
            found["sentry_dsn"] = f"That error-monitoring address {problem}."
        return found

    def destination(self) -> str:
        """Where alerts go, as the wizard shows it: the service, not the secret after it."""
        url = self.alert_url.strip()
        return f"{url.split('://', 1)[0]}://..." if "://" in url else "nowhere yet"

    @classmethod
    def from_env(cls, project: Path) -> EnvAnswers:
        """The answers a project's .env holds now (what `shipyard edit` starts from)."""
        from wizard.checklist.monitoring import ALERT_URL, SENTRY_DSN

        values = envfile.read_env(project)
        return cls(alert_url=values.get(ALERT_URL, ""), sentry_dsn=values.get(SENTRY_DSN, ""))

    def write_changes(self, project: Path, before: EnvAnswers) -> list[str]:
        """Set in project/.env (0600) the settings that differ from `before`, an emptied
        answer included; returns the keys written."""
        from wizard.checklist.monitoring import ALERT_URL, SENTRY_DSN

        changed = {
            key: now.strip()
            for key, now, then in (
                (ALERT_URL, self.alert_url, before.alert_url),
                (SENTRY_DSN, self.sentry_dsn, before.sentry_dsn),
            )
            if now.strip() != then.strip()
        }
        for key, value in changed.items():
            envfile.set_value(project, key, value)
        return list(changed)
