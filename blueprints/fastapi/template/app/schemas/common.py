"""What every request body and every error shares: text a database can store, integers its
columns hold, and one shape for errors."""

from pydantic import BaseModel, Field, field_validator

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


class Body(BaseModel):
    """A request body: every text field is checked before it reaches the database."""

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
