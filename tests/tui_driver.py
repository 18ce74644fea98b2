"""Drive the wizard with keys only, as a founder would: shared by the TUI tests."""

from __future__ import annotations

from textual.pilot import Pilot

from wizard.spec import ACTIONS

# The studio example (examples/studio-booking.yaml), as keystrokes.
STUDIO_FIELDS: dict[str, list[dict[str, object]]] = {
    "Studio": [
        {"name": "name", "required": True, "max_length": "120"},
        {"name": "city"},
    ],
    "Class": [
        {"name": "studio", "type": "ref", "to": "Studio", "required": True},
        {"name": "starts_at", "type": "datet"},
        {"name": "capacity", "type": "int", "min": "1", "default": "12"},
    ],
    "Booking": [
        {"name": "class", "type": "ref", "to": "Cl", "required": True},
    ],
}
# Rules as the terms to tick, in the picker's order: public, signed_in, owner,
# owner_of(<each ref field>), role:admin, role:<each founder role>.
STUDIO_RULES: dict[str, dict[str, set[str]]] = {
    "Studio": {
        "read": {"public"},
        "create": {"role:admin"},
        "update": {"owner", "role:admin"},
        "delete": {"role:admin"},
    },
    "Class": {
        "read": {"public"},
        "create": {"owner_of(studio)"},
        "update": {"owner"},
        "delete": {"owner"},
    },
    "Booking": {
        "read": {"owner", "owner_of(class)"},
        "create": {"signed_in"},
        "update": {"owner"},
        "delete": {"owner", "owner_of(class)"},
    },
}


async def type_text(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(char, char) for char in text])


async def basics(pilot: Pilot[object], title: str, roles: str) -> None:
    await type_text(pilot, title)
    await pilot.press("tab", "tab")
    await type_text(pilot, roles)
    await pilot.press("enter")
    await pilot.pause()


async def add_object(pilot: Pilot[object], name: str, fields: list[dict[str, object]]) -> None:
    await pilot.press("a")
    await pilot.pause()
    await type_text(pilot, name)
    await pilot.press("enter")
    await pilot.pause()
    for field in fields:
        await add_field(pilot, field)


async def add_field(pilot: Pilot[object], field: dict[str, object]) -> None:
    await pilot.press("f")
    await pilot.pause()
    await type_text(pilot, str(field["name"]))
    await pilot.press("tab")  # to "Holds"
    kind = str(field.get("type", ""))
    if kind:
        await pilot.press("enter")
        await pilot.pause()
        await type_text(pilot, kind)
        await pilot.press("enter")
        await pilot.pause()
    if "to" in field:
        await pilot.press("tab", "enter")
        await pilot.pause()
        await type_text(pilot, str(field["to"]))
        await pilot.press("enter")
        await pilot.pause()
    await pilot.press("tab")  # to "Required"
    if field.get("required"):
        await pilot.press("space")
    for option in ("max_length", "min", "max", "default"):
        if option == "max_length" and kind not in ("", "text", "email"):
            continue
        if option in ("min", "max") and kind not in ("int", "float"):
            continue
        await pilot.press("tab")
        await type_text(pilot, str(field.get(option, "")))
    await pilot.press("ctrl+s")
    await pilot.pause()


async def choose_radio(pilot: Pilot[object], downs: int) -> None:
    await pilot.press(*["down"] * downs, "enter")
    await pilot.pause()


async def set_rule(
    pilot: Pilot[object], choices: list[str], current: set[str], wanted: set[str]
) -> None:
    """In the open rule picker, toggle each term whose state differs, then save."""
    for term in choices:
        if (term in current) != (term in wanted):
            await pilot.press("space")
        await pilot.press("down")
    await pilot.press("ctrl+s")
    await pilot.pause()


async def permissions(pilot: Pilot[object], rules: dict[str, dict[str, set[str]]]) -> None:
    """Walk the matrix cell by cell with the arrow keys, changing every rule."""
    from wizard import answers

    app = pilot.app
    for row, (object_name, wanted_rules) in enumerate(rules.items()):
        for column, action in enumerate(ACTIONS):
            spec = app.spec  # type: ignore[attr-defined]
            choices = [str(term) for term in answers.term_choices(spec, object_name)]
            current = {
                str(term) for term in spec.objects[object_name].permissions.rule(action).terms
            }
            await pilot.press("enter")
            await pilot.pause()
            await set_rule(pilot, choices, current, wanted_rules[action])
            if column < len(ACTIONS) - 1:
                await pilot.press("right")
        if row < len(rules) - 1:
            await pilot.press("down", *["left"] * (len(ACTIONS) - 1))


# The monitoring step's answers: secrets for .env, which must never reach shipyard.yaml.
ALERT_URL = "json://alerts.example.com/hooks/s3cr3t-hook-token"
SENTRY_DSN = "https://publickey0123@o1.ingest.example.com/42"


async def monitoring(pilot: Pilot[object], alert_url: str, dsn: str) -> None:
    """The monitoring step: the alert destination, Enter, the DSN, Enter (on to the review)."""
    await type_text(pilot, alert_url)
    await pilot.press("enter")
    await type_text(pilot, dsn)
    await pilot.press("enter")
    await pilot.pause()


async def build_studio(pilot: Pilot[object]) -> None:
    """From the welcome screen to the review, answering like the studio example
    (and with alerts going to ALERT_URL, errors to SENTRY_DSN)."""
    await pilot.press("enter")
    await pilot.pause()
    await basics(pilot, "Studio Booking", "staff")
    for name, fields in STUDIO_FIELDS.items():
        await add_object(pilot, name, fields)
    await pilot.press("ctrl+n")
    await pilot.pause()
    # Ownership: Studio by its creator; Class by whoever owns its studio; Booking by its creator.
    await pilot.press("tab")
    await choose_radio(pilot, 1)
    await pilot.press("ctrl+n")
    await pilot.pause()
    # Login: email and password is ticked already; add magic links.
    await pilot.press("down", "space", "ctrl+n")
    await pilot.pause()
    await permissions(pilot, STUDIO_RULES)
    await pilot.press("ctrl+n")
    await pilot.pause()
    await pilot.press("enter")  # frontend: keep http://localhost:5173
    await pilot.pause()
    await pilot.press("ctrl+n")  # staging: keep Docker
    await pilot.pause()
    await monitoring(pilot, ALERT_URL, SENTRY_DSN)
