"""Pictures per row in a real browser (issue 23): a picture dropped for the selected row shows in
the strip under the table with the rows it holds for, and follows its row through Up and Undo."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

# Importing test_browser skips this module with it when Chromium is missing.
from test_browser import browser, cell, direct  # noqa: F401
from test_browser_daily import open_page

from conftest import running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_with_adapter(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app-ip"), "--ip-adapter", "tiny") as a:
        yield a


def captions(pg) -> list[str]:
    return pg.locator("#row-pictures .caption-label").all_inner_texts()


def wait_captions(pg, expected: list[str]) -> None:
    pg.wait_for_function(
        "(want) => JSON.stringify([...document.querySelectorAll('#row-pictures .caption-label')]"
        ".map(e => e.innerText.trim())) === JSON.stringify(want)",
        arg=expected,
    )


def test_a_rows_picture_shows_under_the_table_and_moves_with_its_row(browser, app_with_adapter, tmp_path):
    face = tmp_path / "face.png"
    Image.fromarray((np.random.default_rng(0).random((48, 48, 3)) * 255).astype(np.uint8)).save(face)
    pg = open_page(browser, app_with_adapter)
    direct(pg, frames=4)
    assert not pg.locator("#row-pictures").is_visible()  # nothing to show yet
    cell(pg, 2).click()
    pg.click("#row-picture-box .label-wrap")
    pg.locator("#row-image input[type=file]").set_input_files(str(face))
    wait_captions(pg, ["Rows 3–4"])
    assert "Row 3 has its own picture now; it holds for rows 3–4." in pg.locator("#table-notes").inner_text()
    pg.locator("#row-picture-line", has_text="Row 3 gets its own picture (rows 3–4).").wait_for()

    pg.click("#row-up")  # the picture goes with its row
    wait_captions(pg, ["Rows 2–4"])
    pg.click("#undo")
    wait_captions(pg, ["Rows 3–4"])
    cell(pg, 3).click()
    pg.locator("#row-picture-line", has_text="Row 4 gets row 3's picture (rows 3–4).").wait_for()
    if os.environ.get("DIRECT2V_SCREENSHOTS"):
        for close in pg.locator(".toast-close").all():  # the director's notices
            close.click()
        pg.locator("#script-panel").screenshot(path=os.path.join(os.environ["DIRECT2V_SCREENSHOTS"], "row-pictures.png"))
    pg.context.close()
