"""Errors where the eye is (issue 15, item 1): a failed handler's message is kept for its
area's status line; a person's mistake logs one line, a fault a traceback."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr
import pytest

from direct2v.ui import messages as msg
from direct2v.ui import table as table_tab


@pytest.fixture
def log_lines(monkeypatch):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    msg.log.addHandler(handler)
    yield records
    msg.log.removeHandler(handler)


def request(session):
    return SimpleNamespace(session_hash=session)


def test_a_user_error_is_one_log_line_and_reaches_its_status_line(log_lines, monkeypatch):
    monkeypatch.setattr(msg, "session_of", lambda request=None: getattr(request, "session_hash", "s1"))
    wrapped = msg.reports("table")(table_tab.move_row_up)
    with pytest.raises(gr.Error) as e:
        wrapped([["a", ""], ["b", ""]], 1)
    assert e.value.message == "Row 1 is already the first row." and e.value.print_exception is False
    assert [(r.getMessage(), r.exc_info) for r in log_lines] == [("table: Row 1 is already the first row.", None)]
    show = msg.status_after_failure("table")
    assert show(request("other")) == gr.update()  # another session's line is untouched
    assert show(request("s1")) == "⚠ Row 1 is already the first row."
    assert show(request("s1")) == gr.update()  # shown once; the next action writes its own line


def test_a_fault_logs_its_traceback_and_names_itself(log_lines, monkeypatch):
    monkeypatch.setattr(msg, "session_of", lambda request=None: "s2")

    def broken():
        yield "started"
        raise KeyError("oops")

    gen = msg.reports("render")(broken)()
    assert next(gen) == "started"
    with pytest.raises(gr.Error, match=r"The render failed: KeyError: 'oops'"):
        next(gen)
    assert len(log_lines) == 1 and log_lines[0].exc_info is not None
    assert msg.take("render", "s2") == "The render failed: KeyError: 'oops'"


def test_pending_messages_are_bounded(monkeypatch):
    monkeypatch.setattr(msg, "_MAX_PENDING", 3)
    for i in range(5):
        msg.remember("render", f"s{i}", str(i))
    assert msg.take("render", "s0") is None and msg.take("render", "s4") == "4"
