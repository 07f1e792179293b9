"""Tables of screen texts in a given language: a room builds its table with Flask-Babel's `_()`
(Vietnamese msgids), and a Vietnamese screen also shows the English lines beneath, smaller."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale


def in_locale(build: Callable[[], dict[str, str]], lang: str) -> dict[str, str]:
    """A table in a given language, whatever the request's own."""
    with force_locale(lang):
        return build()


def english(build: Callable[[], dict[str, str]]) -> dict[str, str]:
    return in_locale(build, "en")
