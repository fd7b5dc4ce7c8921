"""Modal dialogs: a yes/no question and a question that needs a written reason."""

from .confirm import ConfirmDialog
from .reason import ReasonDialog

__all__ = ["ConfirmDialog", "ReasonDialog"]
