"""Widgets of the session screens."""
