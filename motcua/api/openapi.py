"""The OpenAPI 3.1 document, built from the declared routes and their pydantic models."""

from __future__ import annotations

import re

from pydantic import BaseModel

from motcua import __version__
from motcua.api.routing import ROUTES
from motcua.api.schemas import ErrorBody

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
INT_MAX = 2**31 - 1


def _ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document() -> dict:
    components: dict = {}
    error = {"description": "Error", "content": {"application/json": {"schema": _ref(ErrorBody, components)}}}
    paths: dict = {}
    for r in ROUTES:
        path = _PARAM.sub(r"{\2}", r.path)
        op: dict = {"summary": r.summary, "description": f"Who may call it: {r.auth}.", "responses": {}}
        params = list(r.params)
        declared = {p["name"] for p in params}
        for conv, name in _PARAM.findall(r.path):
            if name not in declared:
                params.append({"name": name, "in": "path", "required": True, "schema": {"type": "integer" if conv == "int" else "string"}})
        # Integers in paths are what an INTEGER column holds (larger ones are a 404, see motcua.production).
        params = [{**p, "schema": {**p["schema"], "minimum": 0, "maximum": INT_MAX}} if p["in"] == "path" and p["schema"].get("type") == "integer" else p
                  for p in params]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(r.body, components)}}}
        ok: dict = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": _ref(r.response, components)}}
        op["responses"][str(r.status)] = ok
        if r.status == 201 and r.body is not None and "idempotency_key" in r.body.model_fields:
            replay = {"description": "The ticket issued earlier with the same idempotency key"}
            op["responses"]["200"] = {**replay, **({"content": ok["content"]} if "content" in ok else {})}
        if r.body is not None or any(p["in"] == "query" for p in r.params):  # input it cannot use: details name each field
            op["responses"]["422"] = {"description": "Invalid input", "content": error["content"]}
        op["responses"]["default"] = error
        if r.auth != "public":
            op["security"] = [{"bearer": []}, {"session": []}]
        paths.setdefault(path, {})[r.method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "motcua API", "version": __version__,
                 "description": "Queue and kiosk service for one-stop reception counters. Errors: {error: {code, message (Vietnamese), message_en}}."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Device token (dev_…) or user API token (usr_…)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "Browser session; unsafe methods also need the X-CSRFToken header"},
            },
        },
    }
