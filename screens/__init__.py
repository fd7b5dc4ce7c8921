"""onboard's Textual UI. It calls the core (``wizard``); the core never calls it."""
