"""The page in a real browser: Debian's Chromium, headless, driven by Playwright (whose own browser
download is not reachable here). Skipped, with the reason, where Chromium or Playwright is missing;
``.ci/run`` installs Chromium first, so CI always runs it."""

from __future__ import annotations

import io
import os
import shutil
import socket

import numpy as np
import pytest
from PIL import Image

from videostyle.serve.jobs import ServeSettings, sample_image

CHROMIUM = os.environ.get("VIDEOSTYLE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium, or set VIDEOSTYLE_CHROMIUM)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test]'")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    from videostyle.serve.app import launch

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app, server, url = launch(ServeSettings(tmp_path_factory.mktemp("browser") / "results"), port=port, block=False, quiet=True)
    yield url
    app.close()
    server.close()


def test_image_tab_in_chromium_stylizes_the_bundled_image(browser, page_url, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(page_url)
    page.locator("#image-content input[type=file]").set_input_files(str(sample_image()))
    page.get_by_label("Bundled model: fastest, a trained style").check()
    page.locator("#image-model input").fill("starry_night")
    page.keyboard.press("Enter")
    page.click("#image-run")
    shown = page.locator("#image-result img")
    shown.wait_for(state="visible", timeout=120_000)
    png = page.request.get(shown.get_attribute("src")).body()
    result = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float32)
    original = np.asarray(Image.open(sample_image()).convert("RGB").resize(result.shape[1::-1]), dtype=np.float32)
    assert result.shape[:2] == original.shape[:2] and max(result.shape[:2]) == 512  # the page's default size
    assert np.abs(result - original).mean() > 10, "the page shows the input, not a stylized picture"
    assert "Done" in page.locator("#image-status").inner_text()
    screenshot = tmp_path / "image_tab.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert Image.open(screenshot).size[0] == 1400
