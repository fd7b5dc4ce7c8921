"""The driver the app runs under in `onboard serve`'s browser tab: Textual's web driver, which
also quits the app when the server goes away.

textual-serve feeds the tab's input to the app on stdin. When the server stops (ctrl+c on
`onboard serve`) that stream ends, but Textual's driver only stops reading: the app would go on
running with nobody to see it, and keep its session locked against `onboard resume`.
"""

from __future__ import annotations

from textual import messages
from textual.drivers.web_driver import WebDriver


class ServedWebDriver(WebDriver):
    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        finally:
            # The input ended: the server is gone, or the app is quitting anyway.
            self._app.post_message(messages.ExitApp())
