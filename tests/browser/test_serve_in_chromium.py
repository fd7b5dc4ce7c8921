"""`onboard serve` in a real browser: Debian's headless chromium driven through chromium-driver.

The page draws the app on a canvas, so what the app sent is read where the browser received it:
a script added before the page's own wraps WebSocket and keeps the text of every frame.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_serve import fetch, serving
from wizard.profile import example_profile
from wizard.session import create_session, session_path
from wizard.store import SessionStore

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# Keeps the text of every frame the page's WebSocket receives, in window.__screen.
RECORD_FRAMES = """
window.__screen = "";
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new NativeWebSocket(...args);
  const decoder = new TextDecoder();
  socket.addEventListener("message", (event) => {
    window.__screen += typeof event.data === "string"
      ? event.data : decoder.decode(event.data, {stream: true});
  });
  return socket;
};
window.WebSocket.prototype = NativeWebSocket.prototype;
Object.assign(window.WebSocket, NativeWebSocket);
"""


def apps_of(session: str) -> list[int]:
    """The processes that run the app on ``session`` (serve starts one per browser tab)."""
    wanted = str(session_path(session).resolve())
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone meanwhile
            continue
        if b"wizard.cli" in command and wanted.encode() in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        reason = "Debian's chromium and chromium-driver are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true needs every browser test to run", pytrace=False)
        pytest.skip(reason)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,900")
    # Both paths given: selenium's own manager downloads nothing.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_FRAMES})
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_screen(driver: Any, text: str, timeout: float = 40.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        received = driver.execute_script("return window.__screen || ''")
        screen = ANSI_ESCAPE.sub("", received)
        if text in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never reached the browser; last 500 chars: {screen[-500:]!r}")


def test_with_the_token_the_app_renders_and_a_step_opens_without_it_403(
    browser: Any,
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    store = create_session("Chromium Co", "chromium.example", example_profile())
    name = store.name
    store.close()
    driver = browser
    with serving(name) as served:
        fetch(served.url)  # listening
        driver.get(served.origin + "/")
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "403 Forbidden" in body and "token" in body
        assert not driver.find_elements(By.CSS_SELECTOR, ".xterm")

        driver.get(served.url)
        terminal = driver.find_element(By.CSS_SELECTOR, ".xterm")
        wait_for_screen(driver, "Chromium Co")
        # Step 1, where the session starts (its title line; the navigator lists every step).
        before = wait_for_screen(driver, "Step 1 · Agree the account terms")
        assert "Migration plan: Chromium Co" not in before

        terminal.click()
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("n").key_up(Keys.CONTROL).perform()
        # Step 2 opened by its key: its title line and its own plan reached the browser.
        wait_for_screen(driver, "Step 2 · Plan the migration together")
        wait_for_screen(driver, "Migration plan: Chromium Co (chromium.example)")

    # ctrl+c on serve (SIGTERM here) while the tab is still open: the tab's app goes too, and
    # the session opens again instead of staying locked by an app nobody sees.
    deadline = time.monotonic() + 20
    while apps_of(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert apps_of(name) == []
    with SessionStore.open(session_path(name)) as reopened:
        assert reopened.name == name
