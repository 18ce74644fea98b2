"""Which passwords are accepted: 8 to 128 characters, any characters, not a common one.

No composition rules (NIST SP 800-63B): length and a list of passwords people
really use do more than demanding a digit and a symbol. Too-long passwords are
refused, never silently cut.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from app.core.config import settings

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()


def _letters(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalnum())


def names_the_app(password: str) -> bool:
    """Whether the password holds the app's name (spaces and punctuation aside): the first
    thing anyone guessing passwords for this app tries."""
    from app.auth.messages import APP_TITLE

    name = _letters(APP_TITLE)
    return len(name) >= 4 and name in _letters(password)


def _not_common(password: str) -> str:
    if is_common(password):
        raise PydanticCustomError(
            "common_password",
            "is one of the most commonly used passwords, which attackers try first; "
            "choose another (a few unrelated words make a strong one)",
        )
    if names_the_app(password):
        raise PydanticCustomError(
            "app_name_password",
            "contains this app's name, which attackers try first; choose another",
        )
    return password


def is_the_email(password: str, email: str) -> bool:
    """A password equal to the address (or the part before the @) it signs in with."""
    typed = password.strip().lower()
    return typed in (email.lower(), email.lower().split("@", 1)[0])


# A password someone is choosing (sign-up, reset): checked here, so a 422 names the field.
NewPassword = Annotated[
    str,
    Field(min_length=settings.password_min_length, max_length=settings.password_max_length),
    AfterValidator(_not_common),
]
