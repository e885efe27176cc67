"""The page keeps its word, in a real browser (issue 22): settings that hold, results beside
their causes, honest estimates, the keyboard and the phone.

Runs at 1440x900 and at 390x844, with the `browser` fixture of test_browser.py.
"""

from __future__ import annotations

import re

import pytest

# Importing test_browser skips this module with it when Chromium is missing.
from test_browser import browser, cell, direct, edit_cell, rows, set_number, wait_cell  # noqa: F401
from test_browser_daily import open_page, render_done, small, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def value(pg, elem_id: str) -> str:
    return pg.input_value(f"#{elem_id} input[type=number]")


def box(pg, selector: str) -> dict:
    return pg.locator(selector).first.bounding_box()


def test_steps_round_trip_restores_t0_t1_and_presets_say_what_they_set(browser, app):
    pg = open_page(browser, app)
    pg.click("#advanced")
    assert (value(pg, "steps"), value(pg, "t0"), value(pg, "t1")) == ("50", "44", "47")
    set_number(pg, "steps", 4)
    pg.locator("#settings-note", has_text="Steps 4: t0 44 → 2 and t1 47 → 3").wait_for()
    assert "back at 50 steps they are 44 and 47 again" in pg.locator("#settings-note").inner_text()
    set_number(pg, "steps", 50)
    pg.locator("#settings-note", has_text="Steps 50: t0 2 → 44 and t1 3 → 47").wait_for()
    assert (value(pg, "t0"), value(pg, "t1")) == ("44", "47")
    pg.click("#paper-preset")
    pg.locator("#settings-note", has_text="Paper preset: Steps 100, t0 90, t1 95").wait_for()
    assert "PNDM" in pg.locator("#settings-note").inner_text() and value(pg, "steps") == "100"
    pg.context.close()


def test_keyboard_renders_and_directs_and_a_cancel_keeps_frames_and_video_together(browser, app):
    pg = open_page(browser, app)
    pg.fill("#user-prompt textarea", "A corgi is running, and another corgi joins later")
    set_number(pg, "num-frames", 2)
    pg.locator("#user-prompt textarea").press("Enter")  # Enter in the prompt directs, no newline
    cell(pg, 1).wait_for()
    assert "\n" not in pg.input_value("#user-prompt textarea")
    small(pg, seed=4)
    pg.locator("#intro").click()
    pg.keyboard.press("Control+Enter")  # anywhere else: Render
    pg.locator("#render-status", has_text="Done").wait_for(timeout=180_000)
    frames = pg.locator("#preview img").evaluate_all("els => els.map(e => e.src)")
    video = pg.locator("#video video").get_attribute("src")

    # The downloads are not the person's to remove; the history entry says what it was.
    assert pg.locator("#downloads a").count() == 3
    assert not pg.locator("#downloads .label-clear-button").first.is_visible()
    pg.wait_for_selector("#history img")
    caption = pg.locator("#history .caption-label").first.inner_text()
    for part in ("A corgi is running", "seed 4", "64×64", "6 steps", "RVM τ 4"):
        assert part in caption, caption
    image, label = box(pg, "#history img"), box(pg, "#history .caption-label")
    assert abs(image["width"] - image["height"]) <= 2, image  # square
    assert label["y"] >= image["y"] + image["height"] - 1  # under the picture, not over it

    # A cancelled render: the frames of the video that stays come back over its previews.
    set_number(pg, "steps", 200)
    set_number(pg, "t1", 190)
    set_number(pg, "t0", 150)
    pg.click("#render-btn")
    pg.locator("#render-status", has_text=re.compile(r"step \d+ of")).wait_for()  # any step: updates may skip some under load
    pg.click("#cancel-btn")
    pg.locator("#render-status", has_text="the frames and video of your last render are shown again").wait_for()
    pg.wait_for_timeout(500)
    assert pg.locator("#preview img").evaluate_all("els => els.map(e => e.src)") == frames
    assert pg.locator("#video video").get_attribute("src") == video
    pg.context.close()


def test_save_and_load_answer_beside_their_buttons(browser, app, tmp_path):
    pg = open_page(browser, app)
    direct(pg, frames=2)
    pg.click("#save-project")
    pg.locator("#project-status", has_text="Project saved").wait_for()
    button, line = box(pg, "#save-project"), box(pg, "#project-status")
    assert 0 <= line["y"] - (button["y"] + button["height"]) < 60, (button, line)
    assert "saved" not in status(pg).lower()  # not under Render
    path = tmp_path / "p.direct2v.json"
    pg.locator("#project-file a").first.wait_for()
    with pg.expect_download() as got:
        pg.locator("#project-file a").first.click()
    got.value.save_as(path)
    with pg.expect_file_chooser() as chooser:
        pg.click("#load-project")
    chooser.value.set_files(str(path))
    pg.locator("#project-status", has_text="Loaded p.direct2v.json: 2 frames").wait_for()
    pg.context.close()


def test_a_phone_has_direct_on_the_first_screen_and_settings_in_a_drawer(browser, app):
    pg = open_page(browser, app, 390, 844)
    direct_btn = box(pg, "#direct-btn")
    assert direct_btn["y"] + direct_btn["height"] <= 844, direct_btn
    direct(pg, frames=2)
    pg.locator("#render-btn").scroll_into_view_if_needed()
    y = pg.evaluate("() => window.scrollY")
    pg.click("#settings-drawer-btn")
    pg.wait_for_function("() => getComputedStyle(document.getElementById('settings-panel')).position === 'fixed'")
    steps, size = box(pg, "#steps"), box(pg, "#width")
    assert pg.evaluate("() => window.scrollY") == y  # no scrolling past the results
    assert 0 <= steps["y"] and steps["y"] + steps["height"] <= 844, steps
    set_number(pg, "steps", 4)  # usable where it is
    pg.locator("#settings-note", has_text="Steps 4").wait_for()
    assert size["y"] < 844 * 2  # the size is in the drawer too, a short scroll inside it
    pg.click("#settings-drawer-btn")  # and it closes
    pg.wait_for_function("() => getComputedStyle(document.getElementById('settings-panel')).position !== 'fixed'")
    pg.context.close()
    wide = open_page(browser, app)
    assert not wide.locator("#settings-drawer-btn").is_visible()  # wide screens show the settings beside
    wide.context.close()


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["1440", "390"])
def test_undo_and_redo_bring_back_every_change_and_row_tools_say_what_they_did(browser, app, size):
    pg = open_page(browser, app, *size)
    direct(pg, frames=4)
    typed = "A corgi in a tiny raincoat, typed by hand"
    edit_cell(pg, 2, typed)
    pg.locator("#table-notes", has_text="Edited row 3.").wait_for()
    pg.click("#redirect-all")
    pg.locator("#table-notes", has_text="1 of them edited by hand (row 3)").wait_for()
    pg.click("#double-fps")
    pg.locator("#table-notes", has_text="8 frames.").wait_for()
    pg.click("#undo")
    pg.locator("#table-notes", has_text="Undid Double frame rate").wait_for()
    pg.locator("#intro").click()
    pg.keyboard.press("Control+z")  # the second Undo, from the keyboard
    pg.locator("#table-notes", has_text="Undid Re-direct all").wait_for()
    wait_cell(pg, 2, typed)  # the hand-typed row is back in its place
    pg.keyboard.press("Control+Shift+z")
    pg.locator("#table-notes", has_text="Redid Re-direct all").wait_for()
    pg.click("#undo")
    wait_cell(pg, 2, typed)

    # Row tools say what they did; the highlight follows the moved row; Add adds an empty row.
    assert pg.locator("#row label, #row [data-testid=block-info]").first.inner_text().strip() == "Selected row"
    cell(pg, 3).click()
    pg.click("#row-up")
    pg.locator("#table-notes", has_text="Moved row 4 up to 3.").wait_for()
    wait_cell(pg, 3, typed)
    pg.wait_for_function("() => document.querySelector('#frame-table [data-testid=\"cell-2-0\"]').closest('[role=row]').querySelector('.cell-selected') !== null")
    pg.click("#add-row")
    pg.locator("#table-notes", has_text="Added an empty row 4 below row 3").wait_for()
    assert rows(pg)[3] == "" and len(rows(pg)) == 5
    pg.click("#undo")
    pg.locator("#table-notes", has_text="Undid adding row 4").wait_for()
    assert len(rows(pg)) == 4
    pg.context.close()
