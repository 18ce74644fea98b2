"""The app's clock: everything that expires asks it the time, so tests can move it."""

from datetime import UTC, datetime, timedelta


class Clock:
    """UTC wall-clock time that tests can freeze and move forward instead of sleeping."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def freeze(self, at: datetime | None = None) -> datetime:
        self._frozen = at or datetime.now(UTC)
        return self._frozen

    def advance(self, delta: timedelta) -> datetime:
        return self.freeze(self.now() + delta)

    def unfreeze(self) -> None:
        self._frozen = None


clock = Clock()
