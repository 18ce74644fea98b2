"""What every request body and every error shares: text a database can store, integers its
columns hold, dates written out, and one shape for errors."""

from datetime import date, datetime
from typing import get_args

from pydantic import BaseModel, Field, ValidationInfo, field_validator

# ids, references, versions and int fields are INTEGER columns: 32 bits on PostgreSQL.
# A larger number is a 422 naming the field, never an overflow deep in the driver.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def unstorable(text: str) -> str | None:
    """Why PostgreSQL would refuse this text (a NUL, or half of a UTF-16 pair), or None."""
    if "\x00" in text:
        return "cannot contain a NUL character"
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "contains a broken character (half of a UTF-16 surrogate pair)"
    return None


def _date_kind(annotation: object) -> type[date] | None:
    """datetime or date when a field holds one (alone or with None), else None."""
    held = get_args(annotation) or (annotation,)
    return next((kind for kind in (datetime, date) if kind in held), None)


class Body(BaseModel):
    """A request body: every text field is checked before it reaches the database, and dates
    are text, as openapi.json says (pydantic alone would take 1893542400 as a Unix time)."""

    @field_validator("*", mode="before")
    @classmethod
    def _dates_written_out(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, int | float) and info.field_name is not None:
            kind = _date_kind(cls.model_fields[info.field_name].annotation)
            if kind is datetime:
                raise ValueError("write the date and time as text, like 2030-01-02T09:00:00Z")
            if kind is date:
                raise ValueError("write the date as text, like 2030-01-02")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, str) and (problem := unstorable(value)):
            raise ValueError(problem)
        return value


class FieldProblem(BaseModel):
    field: str = Field(description="The field, as the API names it (`body` for the whole body)")
    message: str


class Problem(BaseModel):
    """Every error the API answers: a sentence to show people, and for a 422 each field."""

    detail: str = Field(description="What went wrong and what to do, in plain words")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="422 only: each field that does not fit"
    )
