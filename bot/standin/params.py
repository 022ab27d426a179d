"""Turning a Bot API request (query string, JSON, urlencoded or multipart body) into a dict.

PTB's HTTPXRequest posts every parameter as a form field: strings as they are, everything
else (ints, bools, reply_markup, entities, allowed_updates, commands...) JSON-encoded into a
string. So ``chat_id`` arrives as ``"42"`` and ``reply_markup`` as ``'{"inline_keyboard":...}'``.
Free-text fields must not be JSON-decoded (a user may well send the text ``"42"``), so they are
listed here; every other string field is decoded as JSON when it parses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from bot.standin.records import UploadedFile

# Parameters whose value is a string by definition, even when it looks like JSON.
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "action",
        "url",
        "secret_token",
        "ip_address",
        "language_code",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "file_id",
        "document",
        "photo",
        "voice",
        "thumbnail",
        "filename",
        "question",
    }
)

_ATTACH = "attach://"


def decode_value(name: str, value: str) -> Any:
    if name in TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def decode_form(fields: Mapping[str, str]) -> dict[str, Any]:
    return {name: decode_value(name, value) for name, value in fields.items()}


async def read_params(request: web.Request) -> dict[str, Any]:
    """All parameters of ``request``, typed; uploaded files become ``UploadedFile`` values.

    A parameter ``"attach://part"`` is replaced by the uploaded part it names, so a caller
    sees the file under the parameter name whichever way the client attached it.
    """
    params: dict[str, Any] = decode_form(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise web.HTTPBadRequest(reason="JSON body must be an object")
            params.update(body)
        else:
            files: dict[str, UploadedFile] = {}
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, FileField):
                    files[name] = UploadedFile(
                        filename=value.filename,
                        content=value.file.read(),
                        content_type=value.content_type,
                    )
                elif isinstance(value, bytes | bytearray):
                    params[name] = decode_value(name, bytes(value).decode("utf-8"))
                else:
                    params[name] = decode_value(name, value)
            for name, value in list(params.items()):
                if isinstance(value, str) and value.startswith(_ATTACH):
                    part = value.removeprefix(_ATTACH)
                    if part in files:
                        params[name] = files.pop(part)
            params.update(files)
    return params
