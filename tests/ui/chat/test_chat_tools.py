"""Tool calling in the Chat pane: with Tools on, "calculate 2+3*4" shows a calculator card with
its arguments and result, then the final answer quoting it; "Show in logs" emits the request id."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import QUrl

from bluesdesk.services.chat import tool_calls_of
from bluesdesk.ui.chat.transcript import ACTION_SCHEME
from tests.ui.chat.test_chat_pane import answer, pane, type_and_enter
from tests.ui.conftest import run_async

pytestmark = pytest.mark.gui
__all__ = ["pane"]  # the fixture, shared with the pane's other tests


def test_tool_call_card_and_final_answer(pane: Any, qtbot: Any) -> None:
    pane.params_button.setChecked(True)
    assert pane.drawer.isVisible()
    pane.drawer.tools.setChecked(True)
    assert pane.drawer.values()[2]["tools"] is True
    type_and_enter(qtbot, pane, "calculate 2+3*4")
    qtbot.waitUntil(
        lambda: not pane.controller.busy and "result is" in answer(pane), timeout=10_000
    )
    text = answer(pane)
    assert "Tool call" in text and "calculator" in text and "2+3*4" in text
    assert '"result": 14' in text  # the card's result …
    assert "the result is: " in text and "14" in text.split("the result is:")[1]  # … quoted
    messages = run_messages(pane, qtbot)
    assert tool_calls_of(messages[-1].meta_json)[0]["name"] == "calculator"
    assert json.loads(pane.conversation.params_json if pane.conversation else "{}").get("tools")

    # The card survives a reload of the conversation (it is kept in the message's meta).
    pane.transcript.show_messages(messages)
    assert "Tool call" in answer(pane) and "calculator" in answer(pane)

    # "Show in logs" hands the request id to whoever shows the gateway's logs.
    last = messages[-1]
    assert last.request_id and "Show in logs" in answer(pane)
    with qtbot.waitSignal(pane.show_in_logs_requested, timeout=2000) as signal:
        pane.transcript._on_anchor(QUrl(f"{ACTION_SCHEME}:logs:{last.id}"))
    assert signal.args == [last.request_id]


def run_messages(pane: Any, qtbot: Any) -> Any:
    return run_async(qtbot, pane.service.store.get_messages(pane.conversation.id))
