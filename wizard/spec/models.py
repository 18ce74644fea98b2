"""The launch spec as typed models: the one object every step of Shipyard passes along."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from wizard.spec.origins import normalise_origin
from wizard.spec.rules import ACTIONS, NOBODY, Rule, parse_rule

LoginMethod = Literal["email_password", "magic_link", "phone_otp"]
FieldType = Literal["string", "text", "int", "float", "bool", "date", "datetime", "email", "ref"]
OwnerKind = Literal["creator", "parent", "none"]

FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]
LOGIN_METHODS: tuple[str, ...] = LoginMethod.__args__  # type: ignore[attr-defined]

RuleText = Annotated[Rule, BeforeValidator(parse_rule), PlainSerializer(str, return_type=str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class App(_Strict):
    name: str = Field(description="slug: a-z, 0-9, dashes")
    title: str


class Login(_Strict):
    methods: list[LoginMethod] = Field(default_factory=lambda: ["email_password"])


class FieldSpec(_Strict):
    type: FieldType
    required: bool = False
    to: str | None = None
    max_length: int | None = Field(default=None, ge=1)
    min_length: int | None = Field(default=None, ge=0)
    min: int | float | None = None
    max: int | float | None = None
    default: Any = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `city: string` is shorthand for `city: {type: string}`.
        return {"type": value} if isinstance(value, str) else value

    @property
    def is_ref(self) -> bool:
        return self.type == "ref"


class Permissions(_Strict):
    read: RuleText | None = None
    create: RuleText | None = None
    update: RuleText | None = None
    delete: RuleText | None = None

    def rule(self, action: str) -> Rule:
        """The rule in force for an action: a missing rule means nobody (deny by default)."""
        return getattr(self, action) or NOBODY

    def items(self) -> list[tuple[str, Rule]]:
        return [(action, self.rule(action)) for action in ACTIONS]


class ObjectSpec(_Strict):
    owner: str = "creator"
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    permissions: Permissions = Field(default_factory=Permissions)

    @property
    def owner_kind(self) -> OwnerKind:
        if self.owner in ("creator", "none"):
            return self.owner  # type: ignore[return-value]
        return "parent"

    @property
    def owner_field(self) -> str | None:
        """The reference field ownership is inherited through, if any."""
        return self.owner if self.owner_kind == "parent" else None

    @property
    def ref_fields(self) -> dict[str, FieldSpec]:
        return {name: spec for name, spec in self.fields.items() if spec.is_ref}


class Images(_Strict):
    python: str = "python:3.12-slim"
    postgres: str = "postgres:16-alpine"


class Staging(_Strict):
    target: Literal["docker", "local"] = "docker"
    images: Images = Field(default_factory=Images)


class Frontend(_Strict):
    origins: list[str] = Field(default_factory=lambda: ["http://localhost:5173"])
    # Lovable's previews each have an address of their own (https://<id>.lovable.app), too
    # many to list: allowed only when the founder asks, and never by a production API.
    lovable_previews: bool = False

    @field_validator("origins")
    @classmethod
    def _as_browsers_send_them(cls, origins: list[str]) -> list[str]:
        # An address copied from the browser bar ends in "/"; the Origin header never does.
        normalised = [origin if origin == "*" else normalise_origin(origin) for origin in origins]
        return list(dict.fromkeys(normalised))


class LaunchSpec(_Strict):
    """Every answer a founder gave; `shipyard.yaml` is its YAML form."""

    app: App
    blueprint: str = "fastapi"
    login: Login = Field(default_factory=Login)
    roles: list[str] = Field(default_factory=list)
    objects: dict[str, ObjectSpec] = Field(default_factory=dict)
    staging: Staging = Field(default_factory=Staging)
    frontend: Frontend = Field(default_factory=Frontend)
    acknowledged: dict[str, str] = Field(
        default_factory=dict, description="launch check item id -> the founder's reason"
    )

    @property
    def all_roles(self) -> list[str]:
        """The founder's roles with the built-in ``admin`` first."""
        return ["admin", *[role for role in self.roles if role != "admin"]]
