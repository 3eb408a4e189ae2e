"""Screenshots of the web page's two tabs after a run, for the README and docs/web.md.

Starts the page on a free port, drives Debian's Chromium with Playwright (as tests/serve/test_browser.py
does): the Image tab stylizes the bundled photo with the bundled Starry Night network, the Video tab
the bundled clip with the bundled low-flicker (ReCoNet) Starry Night network.

    python scripts/web_screenshots.py            # writes docs/images/web_image.jpg, docs/images/web_video.jpg
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from videostyle.serve.app import launch
from videostyle.serve.jobs import ServeSettings, sample_clip, sample_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    results = Path(tempfile.mkdtemp(prefix="videostyle-screens-"))
    app, server, url = launch(ServeSettings(results), port=port, block=False, quiet=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(url)
            page.locator("#image-content input[type=file]").set_input_files(str(sample_image()))
            estimated(page, "image")
            page.click("#image-run")
            page.locator("#image-result img").wait_for(state="visible", timeout=300_000)
            page.wait_for_timeout(1000)  # the slider's second image
            page.screenshot(path=str(args.out / "web_image.jpg"), full_page=True)
            page.get_by_role("tab", name="Video").click()
            page.locator("#video-content input[type=file]").set_input_files(str(sample_clip()))
            page.locator("#video-model input").fill("reconet_starry_night")
            page.keyboard.press("Enter")
            estimated(page, "video")
            page.click("#video-run")
            page.locator("#video-plot img").wait_for(state="visible", timeout=600_000)
            page.wait_for_timeout(2000)  # the players load their first frames
            page.screenshot(path=str(args.out / "web_video.jpg"), full_page=True)
            browser.close()
    finally:
        app.close()
        server.close()
        shutil.rmtree(results, ignore_errors=True)
    print(f"wrote {args.out / 'web_image.jpg'} and {args.out / 'web_video.jpg'}")


def estimated(page, tab: str) -> None:
    """Press *Estimate time* once the page has settled, and wait for the measured estimate."""
    page.wait_for_timeout(1500)
    page.locator(f"#{tab}-estimate-button").click()
    page.locator(f"#{tab}-estimate", has_text="about").wait_for(timeout=300_000)


if __name__ == "__main__":
    main()
