"""Who wrote the script, in a real browser (issue 22): every visitor is told, on every action.

The test app runs offline without the local model's weights, so its default back end (the
local model) cannot load and the built-in writer stands in.
"""

from __future__ import annotations

import pytest

# Importing test_browser skips this module with it when Chromium is missing; its module-scoped
# `browser` fixture serves here too.
from test_browser import browser, direct  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUTHOR = "Written by the built-in writer"
CHOSEN = "() => document.querySelector('#backend input[aria-checked=true]')?.value"


def test_every_visitor_is_told_the_built_in_writer_wrote_the_script(browser, app):  # noqa: F811
    for visitor in ("first", "second"):  # two browser contexts: two visitors of one server process
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(90_000)
        pg.goto(app.url)
        pg.wait_for_selector("#direct-btn")
        pg.click("#backend-box .label-wrap")  # the chooser sits in a closed accordion
        pg.wait_for_selector("#backend input")
        assert pg.evaluate(CHOSEN) == "local", visitor  # every visitor starts on the local model
        direct(pg, frames=4)
        notes = pg.locator("#table-notes")
        notes.filter(has_text=AUTHOR).wait_for()
        line = notes.inner_text()
        # The line under the table names the author, why the chosen model did not write it,
        # and how to get that model.
        assert "The local model" in line and "cannot be loaded" in line, (visitor, line)
        assert "--llm-model PATH" in line and "now shows the built-in writer" in line, (visitor, line)
        # The chooser itself now shows the writer that stood in.
        pg.wait_for_function(f"() => ({CHOSEN})() === 'offline'")
        # x2 says who wrote the doubled script too.
        pg.click("#double-fps")
        notes.filter(has_text="8 frames.").wait_for()
        assert AUTHOR in notes.inner_text(), visitor
        context.close()
