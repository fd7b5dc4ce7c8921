"""onboard's core: the playbook, sessions, secrets, provider profile and the engines.

Nothing in this package imports Textual; the UI lives in ``screens``.
"""

__version__ = "0.1.0"
