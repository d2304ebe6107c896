"""Model listings (`GET /v1/models` in OpenAI or Anthropic shape, `GET /v1beta/models` in Gemini
shape) and `POST /v1/embeddings` (absent on the BluesMinds flavor, as its docs say)."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from bluesdesk.emulator.catalog import MODELS, CatalogModel
from bluesdesk.emulator.config import Flavor
from bluesdesk.emulator.relay import KeyContext, RelayCall, RelayError, RelayRoute
from bluesdesk.emulator.routes_chat import bad_request
from bluesdesk.emulator.tokens import count_tokens

MAX_EMBEDDING_INPUTS = 2048


def visible_models(key: KeyContext) -> list[CatalogModel]:
    """Models the key may call: its group is enabled for them and its model limits allow them."""
    return [
        m
        for m in MODELS.values()
        if (key.group in m.enable_groups or "all" in m.enable_groups)
        and (key.model_limits is None or m.name in key.model_limits)
    ]


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def openai_list(models: list[CatalogModel]) -> dict[str, Any]:
    return {
        "success": True,
        "object": "list",
        "data": [
            {
                "id": m.name,
                "object": "model",
                "created": m.created,
                "owned_by": m.owned_by,
                "supported_endpoint_types": list(m.endpoint_types),
            }
            for m in models
        ],
    }


def anthropic_list(models: list[CatalogModel]) -> dict[str, Any]:
    data = [
        {"id": m.name, "created_at": _iso(m.created), "display_name": m.name, "type": "model"}
        for m in models
    ]
    return {
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "has_more": False,
        "last_id": data[-1]["id"] if data else None,
    }


def gemini_list(models: list[CatalogModel]) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": m.name,  # new-api sends no "models/" prefix (reference §8)
                "baseModelId": None,
                "version": None,
                "displayName": m.name,
                "description": m.description or None,
                "inputTokenLimit": m.context_length,
                "outputTokenLimit": m.max_output,
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
                "temperature": None,
                "maxTemperature": None,
                "topP": None,
                "topK": None,
            }
            for m in models
        ],
        "nextPageToken": None,
    }


async def list_models(call: RelayCall) -> Response:
    models = visible_models(call.key)
    call.usage("", 0, 0)
    headers = call.request.headers
    if "x-api-key" in headers and "anthropic-version" in headers:
        return JSONResponse(anthropic_list(models))
    return JSONResponse(openai_list(models))


async def retrieve_model(call: RelayCall) -> Response:
    """`GET /v1/models/{id}`: one model, or new-api's quirk for an unknown one (reference §8):
    HTTP 200 carrying an OpenAI error object with code `model_not_found`.

    Upstream only knows its built-in OpenAI list here; the emulator answers for every catalog
    model the key may call, so clients can look up any model they were shown.
    """
    name = str(call.request.path_params.get("model_id", ""))
    call.usage("", 0, 0)
    found = next((m for m in visible_models(call.key) if m.name == name), None)
    if found is None:
        return JSONResponse(
            {
                "error": {
                    "message": f"The model '{name}' does not exist",
                    "type": "invalid_request_error",
                    "param": "model",
                    "code": "model_not_found",
                }
            }
        )
    headers = call.request.headers
    if "x-api-key" in headers and "anthropic-version" in headers:
        return JSONResponse(anthropic_list([found])["data"][0])
    return JSONResponse(openai_list([found])["data"][0])


async def list_models_gemini(call: RelayCall) -> Response:
    call.usage("", 0, 0)
    return JSONResponse(gemini_list(visible_models(call.key)))


# --------------------------------------------------------------------------- embeddings


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector that depends only on the text: equal inputs embed equally."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return value
        if all(isinstance(v, int) for v in value):  # one pre-tokenized input
            return [" ".join(map(str, value))]
        if all(isinstance(v, list) and all(isinstance(t, int) for t in v) for v in value):
            return [" ".join(map(str, v)) for v in value]
    raise bad_request("input must be a string, an array of strings, or token arrays")


async def embeddings(call: RelayCall) -> Response:
    if call.config.flavor is Flavor.BLUESMINDS:
        raise RelayError(
            404,
            f"Invalid URL ({call.request.method} {call.request.url.path})",
            type_="invalid_request_error",
        )
    body = await call.json()
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise bad_request("model is required")
    model = call.model(name)
    if not model.has("embedding"):
        raise bad_request(f"{name} is not an embedding model")
    texts = _inputs(body.get("input"))
    if len(texts) > MAX_EMBEDDING_INPUTS:
        raise bad_request(f"at most {MAX_EMBEDDING_INPUTS} inputs per request")
    dims = body.get("dimensions")
    if dims is None:
        dims = 3072 if "large" in name else 1536
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= 8192:
        raise bad_request("dimensions must be an integer between 1 and 8192")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise bad_request("encoding_format must be float or base64")
    data: list[dict[str, Any]] = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dims)
        encoded: Any = vector
        if fmt == "base64":  # little-endian float32, what the OpenAI SDK decodes
            encoded = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(count_tokens(t) for t in texts)
    call.usage(name, tokens, 0)
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


ROUTES: list[RelayRoute] = [
    RelayRoute("/v1/models", list_models, methods=("GET",), billable=False),
    RelayRoute("/v1/models/{model_id:path}", retrieve_model, methods=("GET",), billable=False),
    RelayRoute(
        "/v1beta/models", list_models_gemini, methods=("GET",), style="gemini", billable=False
    ),
    RelayRoute("/v1beta/openai/models", list_models, methods=("GET",), billable=False),
    RelayRoute("/v1/embeddings", embeddings),
]
