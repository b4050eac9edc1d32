"""The OpenAPI 3 document, generated from the marshmallow schemas with apispec."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from web import schemas
from web.api import feeds, work
from web.api.blueprint import bp
from web.api.catalog import RESOURCES
from web.api.documents import OPENAPI_PATHS as DOCUMENT_PATHS
from web.api.documents import DocumentOut
from web.api.matching import OPENAPI_PATHS

ERROR_REF = {"$ref": "#/components/responses/Error"}
# Every operation can answer these: a malformed request (400), no or a bad token (401), a NUL
# character or an out-of-range value (422), a body past the size limit (413), a rate limit (429).
COMMON_ERRORS = (400, 401, 413, 422, 429)  # also in web/api/matching.py's _doc_errors


def _errors(*codes: int) -> dict:
    return {str(code): ERROR_REF for code in sorted({*COMMON_ERRORS, *codes})}


def build_spec() -> APISpec:
    """Return the API's OpenAPI 3.0 specification."""
    spec = APISpec(
        title="CoopMatch API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Partner–opportunity matching for international "
            "cooperation. Every call needs 'Authorization: Bearer "
            "TOKEN' (see `flask --app web create-token`)."
        },
        servers=[{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("ErrorEnvelope", schema=schemas.ErrorEnvelope)
    spec.components.response(
        "Error",
        {
            "description": "An error, in the one error shape.",
            "content": {"application/json": {"schema": "ErrorEnvelope"}},
        },
    )
    for resource in RESOURCES:
        _add_resource(spec, resource)
    for component_schemas in (work.OPENAPI_SCHEMAS, feeds.OPENAPI_SCHEMAS):
        for name, schema in component_schemas.items():
            spec.components.schema(name, schema=schema)
    for path, operations in {**OPENAPI_PATHS, **work.OPENAPI_PATHS, **feeds.OPENAPI_PATHS}.items():
        spec.path(path=path, operations=operations)
    spec.components.schema("DocumentOut", schema=DocumentOut)
    for path, item in DOCUMENT_PATHS.items():
        operations = {k: v for k, v in item.items() if k != "parameters"}
        spec.path(path=path, parameters=item.get("parameters"), operations=operations)
    spec.options["security"] = [{"bearer": []}]
    return spec


def _add_resource(spec: APISpec, resource) -> None:
    title = resource.name.capitalize()
    spec.components.schema(f"{title}In", schema=resource.schema_in)
    spec.components.schema(f"{title}Patch", schema=resource.schema_in(partial=True))
    spec.components.schema(f"{title}Out", schema=resource.schema_out)
    spec.components.schema(f"{title}Page", schema=getattr(schemas, f"{title}Page"))
    body = {"required": True, "content": {"application/json": {"schema": f"{title}In"}}}
    one = {"description": title, "content": {"application/json": {"schema": f"{title}Out"}}}
    patch_body = {"required": True, "content": {"application/json": {"schema": f"{title}Patch"}}}
    item_param = [
        {
            "in": "path",
            "name": "item_id",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": schemas.MAX_ID},
        }
    ]
    query = [{"in": "query", "schema": resource.query}]
    tag = [resource.plural]
    spec.path(
        path=f"/{resource.plural}",
        operations={
            "get": {
                "tags": tag,
                "summary": f"List {resource.plural}",
                "parameters": query,
                "responses": {
                    "200": {
                        "description": "A page",
                        "content": {"application/json": {"schema": f"{title}Page"}},
                    },
                    **_errors(403),
                },
            },
            "post": {
                "tags": tag,
                "summary": f"Create a {resource.name}",
                "requestBody": body,
                "responses": {"201": one, **_errors(403, 409)},
            },
        },
    )
    spec.path(
        path=f"/{resource.plural}/{{item_id}}",
        parameters=item_param,
        operations={
            "get": {
                "tags": tag,
                "summary": f"Read a {resource.name}",
                "responses": {"200": one, **_errors(403, 404)},
            },
            "put": {
                "tags": tag,
                "summary": f"Replace a {resource.name}",
                "requestBody": body,
                "responses": {"200": one, **_errors(403, 404, 409)},
            },
            "patch": {
                "tags": tag,
                "summary": f"Change some fields of a {resource.name}",
                "requestBody": patch_body,
                "responses": {"200": one, **_errors(403, 404, 409)},
            },
            "delete": {
                "tags": tag,
                "summary": f"Delete a {resource.name}",
                "responses": {"204": {"description": "Deleted"}, **_errors(403, 404, 409)},
            },
        },
    )


@bp.get("/openapi.json")
def openapi_document():
    cached = current_app.extensions.get("coopmatch_openapi")
    if cached is None:
        cached = current_app.extensions["coopmatch_openapi"] = build_spec().to_dict()
    return jsonify(cached)
