"""The page in a real browser: Playwright driving Debian's Chromium, headless.

Runs in CI (CI=true makes a missing Chromium a failure, not a skip). Screenshots go to
$DIRECT2V_SCREENSHOTS when set (the README's screenshot is taken this way).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, chromium_available

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if not chromium_available() and not IN_CI:
    pytest.skip("Chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True)
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    if IN_CI:
        raise
    pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)", allow_module_level=True)

CORGI = "A corgi is running, and another corgi joins later"
EDITED = "A corgi running on a sunny beach, edited by hand"
SHOTS = os.environ.get("DIRECT2V_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app, request, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(app.url)
    pg.wait_for_selector("#direct-btn")
    yield pg
    # Leave evidence for a failed test: the page as it was and the end of the server log.
    last = Path(SHOTS or tmp_path) / f"last-{request.node.name}.png"
    last.parent.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(last), full_page=True)
    print(f"\nlast screenshot: {last}\nserver log tail:\n{app.log.read_text()[-2000:]}")
    context.close()


def shot(pg, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def cell(pg, row: int, col: int = 0):
    return pg.locator(f'#frame-table [data-testid="cell-{row}-{col}"]')


def cell_text(pg, row: int, col: int = 0) -> str:
    # The cell's own text (a selected cell also shows a menu button).
    return cell(pg, row, col).locator("span").first.inner_text().strip()


def rows(pg) -> list[str]:
    n = pg.locator('#frame-table [role="row"][data-index]').count()
    return [cell_text(pg, i) for i in range(n)]


def wait_cell(pg, row: int, text: str, col: int = 0) -> None:
    pg.wait_for_function(
        """([r, c, t]) => {
            const el = document.querySelector(`#frame-table [data-testid="cell-${r}-${c}"] span`);
            return el && el.innerText.trim() === t; }""",
        arg=[row, col, text],
    )


def set_number(pg, elem_id: str, value) -> None:
    box = pg.locator(f"#{elem_id} input[type=number]")
    box.wait_for(state="visible")
    # A slider that has just been mounted (an accordion opening) can reset a value typed
    # into it in the same moment; type again until it holds, as a person would.
    for _ in range(10):
        box.fill(str(value))
        box.press("Enter")
        box.blur()
        pg.wait_for_timeout(150)
        if box.input_value() == str(value):
            return
    raise AssertionError(f"#{elem_id} did not take {value} (shows {box.input_value()})")


def expect_toast(pg, text: str) -> None:
    toast = pg.locator(".toast-body", has_text=text)
    toast.first.wait_for(state="visible", timeout=20_000)
    # Close it so later checks see a clean page.
    for close in pg.locator(".toast-close").all():
        try:
            close.click(timeout=1000)
        except Exception:
            pass


def direct(pg, prompt: str = CORGI, frames: int = 8) -> None:
    pg.fill("#user-prompt textarea", prompt)
    set_number(pg, "num-frames", frames)
    pg.click("#direct-btn")
    cell(pg, frames - 1).wait_for()
    pg.wait_for_function(f"() => document.querySelectorAll('#frame-table [role=row][data-index]').length === {frames}")


def edit_cell(pg, row: int, text: str) -> None:
    cell(pg, row).dblclick()
    editor = pg.locator("#frame-table textarea, #frame-table input[type=text]").first
    editor.fill(text)
    editor.press("Enter")
    wait_cell(pg, row, text)


def small_render_settings(pg, steps: int = 12, t0: int = 6, t1: int = 9) -> None:
    set_number(pg, "width", 64)
    set_number(pg, "height", 64)
    set_number(pg, "steps", steps)
    pg.click("#advanced")
    pg.locator("#t0 input[type=number]").wait_for(state="visible")
    # t0 first when lowering, so t0 < t1 holds at every moment.
    if t0 < 44:
        set_number(pg, "t0", t0)
        set_number(pg, "t1", t1)
    else:
        set_number(pg, "t1", t1)
        set_number(pg, "t0", t0)


def test_direct_edit_render_save_and_load(page, tmp_path):
    pg = page
    assert "noise" in pg.locator("#model-notice").inner_text()
    shot(pg, "01-empty")

    # Direct with the offline director.
    direct(pg)
    script = rows(pg)
    assert len(script) == 8 and all(script)

    # Edit a row by hand; the token column follows.
    edit_cell(pg, 2, EDITED)
    wait_cell(pg, 2, "13", col=1)

    # Select row 3 and move it down; it becomes row 4.
    cell(pg, 2).click()
    pg.wait_for_function("() => document.querySelector('#row input').value === '3'")
    # The selected row stands out from the others (rows alternate, so row 1 has its stripe).
    backgrounds = pg.evaluate(
        """() => [...document.querySelectorAll('#frame-table [role=row][data-index]')]
                   .map(r => getComputedStyle(r.querySelector('[role=gridcell]')).backgroundColor)"""
    )
    assert backgrounds[2] not in (backgrounds[0], backgrounds[1], backgrounds[3]), backgrounds
    pg.click("#row-down")
    wait_cell(pg, 3, EDITED)
    script = rows(pg)
    assert script[3] == EDITED and len(script) == 8

    # Render small and fast; watch previews arrive before the video.
    small_render_settings(pg, steps=24, t0=16, t1=20)
    set_number(pg, "seed", -1)
    pg.evaluate(
        """() => { window.__seen = {previewBeforeVideo: false, statusSteps: new Set()};
        window.__poll = setInterval(() => {
          const imgs = document.querySelectorAll('#preview img').length;
          const vid = document.querySelector('#video video');
          if (imgs > 0 && !vid) window.__seen.previewBeforeVideo = true;
          const m = (document.querySelector('#render-status')?.innerText || '').match(/step (\\d+) of/);
          if (m) window.__seen.statusSteps.add(m[1]);
        }, 30); }"""
    )
    pg.click("#render-btn")
    pg.wait_for_function("() => window.__seen.previewBeforeVideo", timeout=180_000)
    shot(pg, "02-rendering")
    pg.locator("#render-status", has_text="Done").wait_for(timeout=180_000)
    pg.wait_for_selector("#video video")
    pg.wait_for_function(
        "() => { const v = document.querySelector('#video video'); return v && v.readyState >= 2 && v.duration > 0; }"
    )
    seen = pg.evaluate("() => ({p: window.__seen.previewBeforeVideo, n: window.__seen.statusSteps.size})")
    assert seen["p"], "no preview frames were shown before the video"
    assert seen["n"] >= 3, "the progress did not stream"
    width, duration, err = pg.evaluate(
        "() => { const v = document.querySelector('#video video'); return [v.videoWidth, v.duration, v.error]; }"
    )
    assert width == 64 and abs(duration - 2.0) < 0.3 and err is None  # 8 frames at 4 fps, playable
    assert pg.locator("#preview img").count() == 8
    used = int(pg.input_value("#used-seed input, #used-seed textarea"))
    assert f"seed {used}" in pg.locator("#render-status").inner_text()
    links = pg.locator("#downloads a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
    exts = sorted({l.split("?")[0].rsplit(".", 1)[-1] for l in links if "." in l})
    assert {"mp4", "gif", "zip"} <= set(exts), links
    pg.click("#reuse-seed")
    pg.wait_for_function("(s) => document.querySelector('#seed input').value === String(s)", arg=used)
    shot(pg, "03-done")

    # Save the project, change things, load it back.
    pg.click("#save-project")
    link = pg.locator("#project-file a").first
    link.wait_for()
    href = link.get_attribute("href")
    saved = tmp_path / "project.direct2v.json"
    with urllib.request.urlopen(href if href.startswith("http") else pg.url.rstrip("/") + href) as r:
        saved.write_bytes(r.read())
    data = json.loads(saved.read_text())
    assert data["frames"][3] == EDITED and data["settings"]["width"] == 64 and data["settings"]["seed"] == used
    assert "key" not in json.dumps(data["director"]).lower()

    pg.fill("#user-prompt textarea", "something else entirely")
    set_number(pg, "width", 512)
    cell(pg, 0).click()
    pg.click("#delete-row")
    pg.wait_for_function("() => document.querySelectorAll('#frame-table [role=row][data-index]').length === 7")

    with pg.expect_file_chooser() as chooser:
        pg.click("#load-project")
    chooser.value.set_files(str(saved))
    pg.wait_for_function(
        "(t) => document.querySelector('#user-prompt textarea').value === t", arg=CORGI
    )
    pg.wait_for_function("() => document.querySelectorAll('#frame-table [role=row][data-index]').length === 8")
    assert rows(pg)[3] == EDITED
    assert pg.input_value("#width input[type=number]") == "64"
    assert pg.input_value("#seed input") == str(used)


def test_bad_input_shows_messages_and_keeps_everything(page):
    pg = page
    direct(pg, frames=4)
    before = rows(pg)

    # An empty prompt: a message, and the table stays.
    pg.fill("#user-prompt textarea", "")
    pg.click("#direct-btn")
    expect_toast(pg, "Type a prompt first")
    assert rows(pg) == before

    # t0 >= t1: a message on Render; settings and table stay as typed.
    pg.fill("#user-prompt textarea", CORGI)
    small_render_settings(pg, steps=12, t0=9, t1=9)
    pg.click("#render-btn")
    expect_toast(pg, "t0 must be smaller than t1")
    assert rows(pg) == before
    assert pg.input_value("#t0 input[type=number]") == "9"
    assert pg.input_value("#user-prompt textarea") == CORGI

    # Frames no longer matching the table.
    set_number(pg, "t0", 6)
    set_number(pg, "num-frames", 6)
    pg.click("#render-btn")
    expect_toast(pg, "The table has 4 rows but Frames is set to 6")
    shot(pg, "04-bad-input")

    # An empty row.
    set_number(pg, "num-frames", 4)
    edit_cell(pg, 1, "")
    pg.click("#render-btn")
    expect_toast(pg, "Frame 2 is empty")

    # The app still serves: direct again and render.
    pg.click("#direct-btn")
    pg.wait_for_function(
        "() => (document.querySelector('#frame-table [data-testid=\"cell-1-0\"] span')?.innerText || '').trim() !== ''"
    )
    pg.click("#render-btn")
    pg.locator("#render-status", has_text="Done").wait_for()


def test_cancel_stops_and_the_page_stays_usable(page):
    pg = page
    direct(pg, frames=4)
    small_render_settings(pg, steps=200, t0=150, t1=190)
    pg.click("#render-btn")
    pg.locator("#render-status", has_text=re.compile(r"step \d+ of")).wait_for()
    pg.click("#cancel-btn")
    pg.locator("#render-status", has_text="Cancelled at step").wait_for()
    status = pg.locator("#render-status").inner_text()
    step, total = (int(x) for x in re.search(r"Cancelled at step (\d+) of (\d+)", status).groups())
    assert step < total, status  # stopped before the end
    # Usable afterwards: a short render completes.
    set_number(pg, "steps", 8)
    set_number(pg, "t1", 5)
    set_number(pg, "t0", 3)
    pg.click("#render-btn")
    pg.locator("#render-status", has_text="Done").wait_for()
    pg.wait_for_selector("#video video")


def test_example_and_double_frame_rate(page):
    pg = page
    pg.get_by_text("A rainbow forming after a rain shower").first.click()
    pg.wait_for_function("() => document.querySelector('#user-prompt textarea').value.includes('rainbow')")
    pg.click("#direct-btn")
    pg.locator("#table-notes", has_text="8 frames.").wait_for()
    pg.click("#double-fps")
    # The table scrolls (only the rows in view exist in the page); its notes count the rows.
    pg.locator("#table-notes", has_text="16 frames.").wait_for()
    assert "Doubled 8 → 16 frames at 8 fps" in pg.locator("#table-notes").inner_text()
    pg.click("#undo")  # the table before the doubling, and its fps, come back
    pg.locator("#table-notes", has_text="Undid Double frame rate: the table is back to its 8 rows.").wait_for()
    assert pg.input_value("#fps input[type=number]") == "4"
    pg.click("#double-fps")
    pg.locator("#table-notes", has_text="16 frames.").wait_for()
    assert pg.input_value("#fps input[type=number]") == "8"
    assert pg.input_value("#num-frames input[type=number]") == "16"


def test_compare_tab(page):
    pg = page
    direct(pg, frames=2)
    small_render_settings(pg, steps=6, t0=2, t1=3)
    pg.click("#compare-tab-button") if pg.locator("#compare-tab-button").count() else pg.get_by_role("tab", name="Compare methods").click()
    pg.click("#compare-btn")
    pg.locator("#compare-status", has_text="Done").wait_for(timeout=180_000)
    pg.wait_for_function(
        "() => { const v = document.querySelector('#compare-video video'); return v && v.readyState >= 2 && v.duration > 0; }"
    )
    table = pg.locator("#compare-table").inner_text()
    assert "T2V-Z" in table and "RVM+DSF" in table and "Avg. Dist." in table
    # 6 steps, t1 = 3: 4 joint steps, tau 4: RVM cannot leave frame 1, and the page says so first.
    said = pg.locator("#compare-status").inner_text()
    assert "RVM cannot differ from T2V-Z at these settings: τ = 4 is at least the 4 joint steps" in said
    assert said.index("RVM cannot differ") < said.index("T2V-Z and RVM rendered identical frames")
    pg.wait_for_selector("#compare-plot img")
    shot(pg, "05-compare")
