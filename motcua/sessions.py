"""When a staff member's browser session ends.

Flask's session is a signed cookie held by the browser, so "signing out" alone cannot stop a
copy of that cookie. Each user has a `session_version`; a session remembers the value it signed
in under (`SESSION_KEY`) and is refused once the user's value has moved on. It moves on at
sign-out, and whenever a password, role or office changes or the user is deactivated, however
that happens (manager pages, the CLI, a script through the ORM): a flush listener bumps it.
A user who changes their own password stays signed in on the page that did it; every other
session of theirs ends."""

from __future__ import annotations

from flask import has_request_context
from flask import session as flask_session
from sqlalchemy import event, update
from sqlalchemy.orm import Session, attributes

from motcua.models import User

SESSION_KEY = "sv"
# What a session is entitled to: changing one of these ends the user's other sessions.
ENDS_SESSIONS = ("password_hash", "role", "active", "office_id")


def remember(user: User) -> None:
    """At sign-in: this browser's session is valid for the user's current version."""
    flask_session[SESSION_KEY] = user.session_version


def is_current(user: User) -> bool:
    return user.active and flask_session.get(SESSION_KEY) == user.session_version


def end_all(session: Session, user_id: int) -> None:
    """Sign-out: every copy of every session of the user stops working."""
    session.execute(update(User).where(User.id == user_id).values(session_version=User.session_version + 1))


@event.listens_for(Session, "before_flush")
def _bump_on_change(session: Session, _context, _instances) -> None:
    for obj in session.dirty:
        if not isinstance(obj, User) or not any(attributes.get_history(obj, a).has_changes() for a in ENDS_SESSIONS):
            continue
        obj.session_version = (obj.session_version or 0) + 1
        if _is_own_session(obj.id):
            flask_session[SESSION_KEY] = obj.session_version  # the page that changed it stays signed in


def _is_own_session(user_id: int) -> bool:
    return has_request_context() and SESSION_KEY in flask_session and flask_session.get("_user_id") == str(user_id)
