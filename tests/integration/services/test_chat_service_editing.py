"""ChatService's second-pass features against the real emulator and a real SQLite file:
parameters and response formats reach the gateway, images go as data-URL parts, edit and
resend, delete with undo, duplicate, fork, continue, errors classified for the pane's actions,
export of everything, and presets."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from bluesdesk.core.export import ImportFormatError
from bluesdesk.core.models import ApiStyle
from bluesdesk.emulator import EmulatorServer
from bluesdesk.services.chat import ChatService, error_info, style_of
from tests.integration.services.test_chat_service import LONG, run_with_service


def _png() -> str:
    """A small real PNG, base64: what the composer sends after downscaling."""
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


PNG = _png()
DATA_URL = "data:image/png;base64," + PNG


def test_parameters_and_response_formats_reach_the_gateway(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    async def body(service: ChatService) -> list[Any]:
        out: list[Any] = []
        conv = await service.new_conversation(
            model="gpt-4o-mini", params={"stop": ["STOP"], "temperature": 0.2, "seed": 7}
        )
        out.append(await service.send(conv.id, "echo: alpha beta STOP gamma"))
        conv = await service.new_conversation(model="gpt-4o-mini", params={"max_tokens": 3})
        out.append(await service.send(conv.id, f"echo: {LONG}"))
        schema = {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        }
        conv = await service.new_conversation(
            model="gpt-4o-mini", params={"response_format": "json_schema", "json_schema": schema}
        )
        out.append(await service.send(conv.id, "Where do trams run?"))
        conv = await service.new_conversation(
            model="gpt-4o-mini", params={"response_format": "json_object"}
        )
        out.append(await service.send(conv.id, "Describe Lisbon"))
        return out

    stopped, limited, with_schema, as_object = run_with_service(tmp_path, emulator, body)
    assert stopped.text.strip() == "alpha beta"
    assert stopped.state == "complete"
    assert limited.text.startswith("word0") and "word10" not in limited.text
    assert json.loads(limited.meta_json)["stats"]["finish_reason"] == "length"
    assert isinstance(json.loads(with_schema.text)["city"], str)
    assert isinstance(json.loads(as_object.text), dict)


def test_images_go_as_parts_and_a_text_model_refuses_them(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    assert base64.b64decode(PNG).startswith(b"\x89PNG")

    async def body(service: ChatService) -> tuple[Any, Any, Any]:
        conv = await service.new_conversation(model="gpt-4o-mini")
        seen = await service.send(conv.id, "What is in this picture?", images=[DATA_URL])
        text_only = await service.new_conversation(model="gpt-3.5-turbo")
        refused = await service.send(text_only.id, "And this one?", images=[DATA_URL])
        user = (await service.store.get_messages(conv.id))[0]
        return seen, refused, user

    seen, refused, user = run_with_service(tmp_path, emulator, body)
    assert seen.state == "complete" and seen.text
    assert json.loads(user.meta_json)["images"] == [DATA_URL]
    assert refused.state == "error"
    assert "does not accept images" in refused.error


def test_edit_and_resend_drops_what_followed(tmp_path: Path, emulator: EmulatorServer) -> None:
    async def body(service: ChatService) -> list[Any]:
        conv = await service.new_conversation(model="gpt-4o-mini")
        await service.send(conv.id, "echo: one")
        second = await service.send(conv.id, "echo: two")
        messages = await service.store.get_messages(conv.id)
        first_user = messages[0]
        assert second.text == "two"
        await service.edit_and_resend(first_user.id, "echo: uno")
        return await service.store.get_messages(conv.id)

    messages = run_with_service(tmp_path, emulator, body)
    assert [(m.role, m.text) for m in messages] == [("user", "echo: uno"), ("assistant", "uno")]


def test_delete_undo_duplicate_and_fork(tmp_path: Path, emulator: EmulatorServer) -> None:
    async def body(service: ChatService) -> dict[str, Any]:
        conv = await service.new_conversation(model="gpt-4o-mini")
        await service.send(conv.id, "echo: first")
        await service.send(conv.id, "echo: second")
        messages = await service.store.get_messages(conv.id)
        out: dict[str, Any] = {"original": [m.text for m in messages]}
        removed = await service.delete_message(messages[1].id)
        out["after_delete"] = [m.text for m in await service.store.get_messages(conv.id)]
        await service.undo_delete_messages(removed)
        restored = await service.store.get_messages(conv.id)
        out["after_undo"] = [(m.id, m.text) for m in restored]
        out["ids"] = [(m.id, m.text) for m in messages]
        copy = await service.duplicate(conv.id)
        out["copy"] = [m.text for m in await service.store.get_messages(copy.id)]
        out["copy_title"] = copy.title
        fork = await service.fork(messages[1].id)
        out["fork"] = [m.text for m in await service.store.get_messages(fork.id)]
        deleted = await service.delete_conversation(conv.id)
        assert deleted is not None
        out["gone"] = await service.store.get_conversation(conv.id)
        await service.undo_delete_conversation(deleted)
        back = await service.store.get_messages(conv.id)
        out["back"] = [(m.id, m.text) for m in back]
        out["hits"] = [h.message_id for h in (await service.search("second"))[1]]
        return out

    out = run_with_service(tmp_path, emulator, body)
    assert out["original"] == ["echo: first", "first", "echo: second", "second"]
    assert out["after_delete"] == ["echo: first", "echo: second", "second"]
    assert out["after_undo"] == out["ids"]  # the same ids come back
    assert out["copy"] == out["original"]
    assert out["copy_title"] == "echo: first (copy)"
    assert out["fork"] == ["echo: first", "first"]
    assert out["gone"] is None
    assert out["back"] == out["ids"]
    assert out["hits"]  # restored text is searchable again (the FTS triggers saw it)


def test_continue_appends_to_an_interrupted_answer(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    async def body(service: ChatService) -> tuple[Any, Any]:
        conv = await service.new_conversation(model="gpt-4o-mini")
        emulator.arm_fault("drop", after=6)
        cut = await service.send(conv.id, f"echo: {LONG}")
        done = await service.continue_answer(cut.id)
        return cut, done

    cut, done = run_with_service(tmp_path, emulator, body)
    assert cut.state == "interrupted" and cut.text.startswith("word0")
    assert error_info(cut.meta_json)["kind"] == "interrupted"
    assert done.id == cut.id and done.state == "complete"
    assert done.text.startswith(cut.text) and len(done.text) > len(cut.text)
    assert done.error == ""


def test_errors_are_classified_for_the_panes_actions(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    async def body(service: ChatService) -> list[Any]:
        conv = await service.new_conversation(model="gpt-4o-mini")
        out: list[Any] = []
        emulator.arm_fault("429", count=5, retry_after=7)
        out.append(await service.send(conv.id, "echo: busy"))
        emulator.reset_faults()
        emulator.arm_fault("401", count=5)
        out.append(await service.send(conv.id, "echo: key"))
        emulator.reset_faults()
        emulator.arm_fault("500", count=5)
        out.append(await service.send(conv.id, "echo: down"))
        emulator.reset_faults()
        missing = await service.new_conversation(model="no-such-model-xyz")
        out.append(await service.send(missing.id, "echo: hello"))
        # Retry replaces the failed answer with a fresh one.
        retried = await service.retry(out[2].id)
        out.append(retried)
        out.append(await service.store.get_message(out[2].id))
        return out

    rate, auth, server, model, retried, replaced = run_with_service(tmp_path, emulator, body)
    assert error_info(rate.meta_json) == {"kind": "rate_limit", "status": 429, "retry_after": 7.0}
    assert error_info(auth.meta_json)["kind"] == "auth"
    assert error_info(server.meta_json)["kind"] == "server"
    assert error_info(model.meta_json)["kind"] == "model", model.error
    assert retried.state == "complete" and retried.text == "down"
    assert replaced is None


def test_export_all_round_trip_and_presets(tmp_path: Path, emulator: EmulatorServer) -> None:
    async def body(service: ChatService) -> dict[str, Any]:
        for word in ("north", "south"):
            conv = await service.new_conversation(model="gpt-4o-mini", system_prompt="Be brief")
            await service.send(conv.id, f"echo: {word}")
        text = await service.export_all_json()
        imported = await service.import_json_many(text)
        await service.save_preset("Terse", "Answer in one line.", {"temperature": 0.1})
        await service.save_preset("Coder", "You write Python.", {"max_tokens": 500})
        await service.save_preset("Terse", "One line only.", {"temperature": 0.0})
        presets = await service.presets()
        await service.delete_preset("Coder")
        try:
            await service.import_json_many('{"format": "bluesdesk.conversations", "version": 1}')
        except ImportFormatError as exc:
            refused = str(exc)
        return {
            "imported": [(c.title, c.system_prompt) for c in imported],
            "texts": [[m.text for m in await service.store.get_messages(c.id)] for c in imported],
            "presets": [(p.name, p.system_prompt, json.loads(p.params_json)) for p in presets],
            "left": [p.name for p in await service.presets()],
            "refused": refused,
        }

    out = run_with_service(tmp_path, emulator, body)
    assert sorted(out["imported"]) == [("echo: north", "Be brief"), ("echo: south", "Be brief")]
    assert sorted(out["texts"]) == [["echo: north", "north"], ["echo: south", "south"]]
    assert out["presets"] == [
        ("Coder", "You write Python.", {"max_tokens": 500}),
        ("Terse", "One line only.", {"temperature": 0.0}),
    ]
    assert out["left"] == ["Terse"]
    assert "no conversations" in out["refused"]


def test_style_follows_native_capabilities() -> None:
    assert style_of(frozenset({"chat", "claude_native"})) is ApiStyle.CLAUDE
    assert style_of(frozenset({"gemini_native"})) is ApiStyle.GEMINI
    assert style_of(frozenset({"chat", "vision"})) is ApiStyle.OPENAI
