"""The websocket message types are defined once in Python and mirrored in JavaScript and the docs."""

from __future__ import annotations

import re
from pathlib import Path

from smartrlp.realtime import protocol

ROOT = Path(__file__).resolve().parent.parent


def _js_object(name: str) -> dict[str, str]:
    source = (ROOT / "static/js/lib/protocol.js").read_text(encoding="utf-8")
    match = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", source, re.DOTALL)
    assert match, f"protocol.js has no {name}"
    return dict(re.findall(r"(\w+):\s*\"?([\w-]+)\"?", match.group(1)))


def test_js_message_types_mirror_python() -> None:
    python = {value.upper(): value for value in protocol.SERVER_TYPES + protocol.CLIENT_TYPES}
    assert _js_object("MessageType") == python


CLOSE_CODES = {name.removeprefix("CLOSE_"): code for name, code in vars(protocol).items() if name.startswith("CLOSE_")}


def test_js_close_codes_mirror_python() -> None:
    assert _js_object("CloseCode") == {name: str(code) for name, code in CLOSE_CODES.items()}


def test_every_message_type_and_close_code_is_documented() -> None:
    api = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    for message_type in protocol.SERVER_TYPES + protocol.CLIENT_TYPES:
        assert f"| `{message_type}` |" in api, f"docs/api.md does not describe message type {message_type!r}"
    for code in CLOSE_CODES.values():
        assert f"| {code} |" in api, f"docs/api.md does not describe close code {code}"


def test_js_reaction_kinds_mirror_python() -> None:
    source = (ROOT / "static/js/lib/protocol.js").read_text(encoding="utf-8")
    match = re.search(r"export const REACTION_KINDS = Object\.freeze\(\[(.*?)\]\);", source)
    assert match
    assert tuple(re.findall(r"\"(\w+)\"", match.group(1))) == protocol.REACTION_KINDS


def test_js_action_types_and_ref_length_mirror_python() -> None:
    source = (ROOT / "static/js/lib/protocol.js").read_text(encoding="utf-8")
    match = re.search(r"export const ACTION_TYPES = Object\.freeze\(\[(.*?)\]\);", source)
    assert match
    assert tuple(re.findall(r"\"(\w+)\"", match.group(1))) == protocol.ACTION_TYPES
    assert f"export const MAX_REF_LENGTH = {protocol.MAX_REF_LENGTH};" in source
