"""Theme discovery: ``ThemeModel`` finds, names, keeps and assigns themes in short texts.

Modules: ``base`` (Theme record, choice of method), ``model`` (fit, assign), ``refit`` (identity across
re-fits), ``names`` (keywords and names), ``edits`` (rename, pin, merge, split), ``store`` (save/load).
"""

from nlp.themes.base import AUTO_E5_LIMIT, Theme, resolve_method
from nlp.themes.model import ThemeModel

__all__ = ["AUTO_E5_LIMIT", "Theme", "ThemeModel", "resolve_method"]
