"""The page as a daily tool, in a real browser (issue 15): errors stay in the status line,
a phone gets one stable column, the queue is visible and cancellable, this session's
history restores, and a downloaded PNG brings its render back.

Screenshots at 1440x900 and 390x844 go to $DIRECT2V_SCREENSHOTS when set (the README's).
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

# Importing test_browser skips this module with it when Chromium is missing; its module-scoped
# `browser` fixture serves here too.
from test_browser import SHOTS, browser, cell, direct, expect_toast, rows, set_number, shot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_page(browser, app, width=1440, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    pg.goto(app.url)
    pg.wait_for_selector("#direct-btn")
    return pg


def readme_shot(pg, name: str, top: str | None = None) -> None:
    """The README's screenshots: what the screen shows (not the whole page), from `top`."""
    if not SHOTS:
        return
    for close in pg.locator(".toast-close").all():  # the director's notices, already on the page
        try:
            close.click(timeout=1000)
        except Exception:
            pass
    y = pg.locator(top).bounding_box()["y"] + pg.evaluate("() => window.scrollY") - 8 if top else 0
    pg.evaluate("(y) => window.scrollTo(0, y)", y)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def small(pg, steps=6, t0=2, t1=3, seed=None):
    set_number(pg, "width", 64)
    set_number(pg, "height", 64)
    set_number(pg, "steps", steps)
    pg.click("#advanced")
    set_number(pg, "t0", t0)
    set_number(pg, "t1", t1)
    if seed is not None:
        set_number(pg, "seed", seed)


def render_done(pg):
    pg.click("#render-btn")
    pg.locator("#render-status", has_text="Done").wait_for(timeout=180_000)


def status(pg, elem="render-status"):
    return pg.locator(f"#{elem}").inner_text()


def test_an_error_stays_in_the_status_line_and_the_old_frames_stay(browser, app):
    pg = open_page(browser, app)
    direct(pg, frames=2)
    small(pg, seed=3)
    render_done(pg)
    frames_before = pg.locator("#preview img").evaluate_all("els => els.map(e => e.src)")
    video_before = pg.locator("#video video").get_attribute("src")
    assert len(frames_before) == 2 and video_before

    set_number(pg, "t0", 3)  # t0 == t1: refused
    pg.click("#render-btn")
    expect_toast(pg, "t0 must be smaller than t1")  # the toast shows, then is closed
    pg.locator(".toast-body").first.wait_for(state="detached", timeout=20_000)
    pg.locator("#render-status", has_text="⚠ t0 must be smaller than t1").wait_for()
    pg.wait_for_timeout(1500)  # and it stays
    assert "⚠ t0 must be smaller than t1" in status(pg)
    assert pg.locator("#preview img").evaluate_all("els => els.map(e => e.src)") == frames_before
    assert pg.locator("#video video").get_attribute("src") == video_before
    badges = pg.locator("#preview .error, #video .error").evaluate_all("els => els.filter(e => e.checkVisibility({opacityProperty: true, visibilityProperty: true})).length")
    assert badges == 0  # no empty red "Error" badge over the old result

    # A director error goes to the table's status line the same way.
    pg.fill("#user-prompt textarea", "")
    pg.click("#direct-btn")
    pg.locator("#table-notes", has_text="⚠ Type a prompt first").wait_for()
    assert len(rows(pg)) == 2
    shot(pg, "error-in-status-1440")
    pg.context.close()


def test_a_phone_gets_one_stable_column_without_sideways_scrolling(browser, app):
    pg = open_page(browser, app, 390, 844)
    direct(pg, frames=4)  # the Direct button is stable enough to click
    width = pg.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    panels = ["direct-panel", "script-panel", "render-panel", "settings-panel"]
    boxes = [pg.locator(f"#{p}").bounding_box() for p in panels]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes), boxes
    assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes)  # one column, in the order of work
    # Nothing moves without input: sample the layout for two seconds.
    samples = pg.evaluate(
        """async (ids) => { const out = new Set();
          for (let i = 0; i < 20; i++) {
            out.add(ids.map(id => { const r = document.getElementById(id).getBoundingClientRect();
                                    return [Math.round(r.x), Math.round(r.y), Math.round(r.width)].join(','); }).join(';'));
            await new Promise(r => setTimeout(r, 100)); }
          return [...out]; }""",
        panels,
    )
    assert len(samples) == 1, f"the layout changed on its own: {samples}"
    readme_shot(pg, "screenshot-390", top="#script-panel")
    pg.context.close()


def test_a_queued_render_shows_its_place_and_cancel_takes_it_out(browser, app):
    first = open_page(browser, app)
    second = open_page(browser, app)  # another tab: a session of its own
    for pg in (first, second):
        direct(pg, frames=2)
        small(pg, steps=200, t0=150, t1=190)
    first.click("#render-btn")
    first.locator("#render-status", has_text=re.compile(r"step \d+ of")).wait_for()
    second.click("#render-btn")
    second.locator("#render-status", has_text="Waiting: 1 ahead of you").wait_for()
    second.click("#cancel-btn")
    second.locator("#render-status", has_text="Cancelled while waiting in the queue").wait_for()
    assert "step" in status(first)  # the first render was not touched
    first.click("#cancel-btn")
    first.locator("#render-status", has_text="Cancelled at step").wait_for()
    first.context.close()
    second.context.close()


def test_history_restores_and_a_downloaded_png_reproduces_its_render(browser, app, tmp_path):
    pg = open_page(browser, app)
    direct(pg, frames=2)
    small(pg, seed=11)
    render_done(pg)
    first_table = rows(pg)
    set_number(pg, "seed", 12)
    set_number(pg, "width", 72)
    render_done(pg)
    pg.wait_for_function("() => document.querySelectorAll('#history img').length === 2")
    readme_shot(pg, "screenshot-1440", top="#main-row")

    # Restore the first render (the newest is first in the history).
    pg.locator("#history img").nth(1).click()
    pg.locator("#render-status", has_text="Restored render #1 (seed 11)").wait_for()
    assert pg.input_value("#seed input") == "11"
    assert pg.input_value("#width input[type=number]") == "64"
    assert rows(pg) == first_table

    # A final frame's PNG, downloaded, holds its project: load it after changing things.
    src = pg.locator("#preview img").first.get_attribute("src")
    png = tmp_path / "frame.png"
    with urllib.request.urlopen(src if src.startswith("http") else pg.url.rstrip("/") + src) as r:
        png.write_bytes(r.read())
    set_number(pg, "seed", 99)
    set_number(pg, "width", 128)
    pg.fill("#user-prompt textarea", "something else")
    with pg.expect_file_chooser() as chooser:
        pg.click("#load-project")
    chooser.value.set_files(str(png))
    pg.locator("#project-status", has_text="Loaded frame.png: 2 frames, seed 11").wait_for()
    assert pg.input_value("#seed input") == "11"
    assert pg.input_value("#width input[type=number]") == "64"
    assert rows(pg) == first_table
    pg.context.close()
