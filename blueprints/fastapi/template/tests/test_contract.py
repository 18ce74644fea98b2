"""The OpenAPI document is the contract a frontend is built from: it must tell the truth.

Input that does not fit a column is a 422 naming the field (never a 500), every error has
one shape, and every operation has a readable id and a tag.
"""

import json
import re

import pytest

from app.api.contract import client_text, document_text
from app.main import app
from app.schemas.common import INT_MAX
from tests.conftest import PROJECT
from tests.factories import KINDS

DOCUMENT = app.openapi()
OPERATIONS = [
    (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
TOO_BIG = [INT_MAX + 1, 2**64, 10**30]
# An INTEGER column holds -2**31 itself: one below it is the first value that does not fit.
TOO_SMALL = [-INT_MAX - 2, -(2**64), -(10**30)]


def body_schema(path: str, method: str) -> dict:
    reference = DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]
    name = reference["schema"]["$ref"].rsplit("/", 1)[-1]
    return DOCUMENT["components"]["schemas"][name]


def fields_of_type(schema: dict, kind: str) -> list[str]:
    """The properties that accept `kind` (plain strings only: no format, no choice)."""
    found = []
    for name, prop in schema["properties"].items():
        for option in prop.get("anyOf", [prop]):
            if option.get("type") == kind and "format" not in option and "enum" not in option:
                found.append(name)
                break
    return found


async def new_payload(db, people, object_name):
    kind = KINDS[object_name]
    record = await kind.make(db, people["admin"].user, people["admin"].user)
    await db.commit()
    return kind, kind.payload(record), record


def test_the_committed_openapi_json_is_the_apps():
    """A frontend's client is generated from openapi.json: it must be what the app serves."""
    committed = PROJECT / "openapi.json"
    regenerate = "run `python -m app openapi --write`, commit it, and regenerate the frontend's client"
    assert committed.is_file(), f"openapi.json is missing: {regenerate}"
    assert json.loads(committed.read_text(encoding="utf-8")) == json.loads(document_text()), (
        f"openapi.json is not what the app serves (a route or a schema changed): {regenerate}"
    )


def test_the_committed_typescript_client_is_the_documents():
    committed = PROJECT / "client" / "api.ts"
    regenerate = "run `python -m app openapi --write`, commit it, and copy it to the frontend"
    assert committed.is_file(), f"client/api.ts is missing: {regenerate}"
    assert committed.read_text(encoding="utf-8") == client_text(), (
        f"client/api.ts is not generated from the app's document: {regenerate}"
    )


def test_every_operation_has_a_readable_id_and_a_tag():
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", operation_id) for operation_id in ids), ids
    assert all(len(operation.get("tags", [])) == 1 for _, _, operation in OPERATIONS)


def test_every_error_has_the_one_error_body():
    for method, path, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]


def test_record_routes_document_their_refusals():
    for path, item in DOCUMENT["paths"].items():
        if path.startswith("/api/") and path.endswith("{record_id}"):
            assert {"401", "403", "404", "409", "422"} <= set(item["patch"]["responses"])
            assert {"401", "404", "422"} <= set(item["get"]["responses"])


@pytest.mark.parametrize("object_name", list(KINDS))
async def test_integers_beyond_the_column_are_422_naming_the_field(
    client, db, people, admin, object_name
):
    kind, payload, record = await new_payload(db, people, object_name)
    for field in fields_of_type(body_schema(kind.path, "post"), "integer"):
        for value in TOO_BIG + TOO_SMALL:
            response = await client.post(
                kind.path, json={**payload, field: value}, headers=admin.headers
            )
            assert response.status_code == 422, (field, value, response.text)
            assert response.json()["detail"].startswith(f"{field}:")
    url = f"{kind.path}/{record.id}"
    for value in TOO_BIG:
        assert (await client.get(f"{kind.path}/{value}", headers=admin.headers)).status_code == 422
        assert (await client.delete(f"{kind.path}/{value}", headers=admin.headers)).status_code == 422
        paged = await client.get(kind.path, params={"offset": value}, headers=admin.headers)
        assert paged.status_code == 422
        assert paged.json()["errors"][0]["field"] == "offset"
        stale = await client.patch(url, json={"version": value}, headers=admin.headers)
        assert stale.status_code == 422
        assert stale.json()["detail"].startswith("version:")


@pytest.mark.parametrize("object_name", list(KINDS)[:1])
@pytest.mark.parametrize("if_match", ['"²"', '"¹³"', '"99999999999"', '"1', "3.0", '"-1"'])
async def test_if_match_takes_ascii_digits_only(client, db, people, admin, object_name, if_match):
    kind, _, record = await new_payload(db, people, object_name)
    url = f"{kind.path}/{record.id}"
    # HTTP headers are Latin-1 on the wire: "²" arrives as "²", which str.isdigit() accepts.
    headers = {**admin.headers, "If-Match": if_match.encode("latin-1")}
    response = await client.patch(url, json=kind.change, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("If-Match:")


@pytest.mark.parametrize("object_name", list(KINDS))
@pytest.mark.parametrize("text", ["nul\x00byte", "half \ud800 pair"])
async def test_text_a_database_refuses_is_422_naming_the_field(
    client, db, people, admin, object_name, text
):
    kind, payload, record = await new_payload(db, people, object_name)
    # Sent as escaped JSON: a lone surrogate cannot be encoded as UTF-8 by the client either.
    headers = {**admin.headers, "Content-Type": "application/json"}
    for field in fields_of_type(body_schema(kind.path, "post"), "string"):
        body = json.dumps({**payload, field: text})
        created = await client.post(kind.path, content=body, headers=headers)
        assert created.status_code == 422, (field, created.text)
        assert created.json()["errors"][0]["field"] == field
        url = f"{kind.path}/{record.id}"
        changed = await client.patch(url, content=json.dumps({field: text}), headers=headers)
        assert changed.status_code == 422, (field, changed.text)


def test_origins_are_read_as_browsers_send_them():
    from app.core.config import Settings

    settings = Settings(cors_origins="https://App.Example.com/, http://localhost:5173")
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:5173"]


@pytest.mark.parametrize("object_name", list(KINDS)[:1])
async def test_a_method_the_path_lacks_is_405_naming_all_it_has(client, admin, object_name):
    path = KINDS[object_name].path
    listed = await client.put(path, headers=admin.headers)
    assert listed.status_code == 405
    assert listed.headers["Allow"] == "GET, POST"
    one = await client.put(f"{path}/1", headers=admin.headers)
    assert one.headers["Allow"] == "GET, PATCH, DELETE"
