"""Who may see which office: managers their own, admins of every office (office_id NULL) any.

Pages default an all-office admin to the first office and offer a switch (?office=code); the
JSON API asks such an admin to name the office when there are several (motcua.auth.office_for).
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.models import Office


def page_office(session: Session, code: str | None = None) -> Office:
    """The office a manager page shows; 404 for an office the user may not see."""
    code = code if code is not None else request.args.get("office")
    office_id = current_user.office_id
    if office_id is not None:
        office = session.get(Office, office_id)
        if code and office.code != code:
            abort(404)
        return office
    q = select(Office).order_by(Office.id)
    if code:
        q = q.where(Office.code == code)
    office = session.scalars(q.limit(1)).first()
    if office is None:
        abort(404)
    return office


def visible_offices(session: Session) -> list[Office]:
    if current_user.office_id is not None:
        return [session.get(Office, current_user.office_id)]
    return list(session.scalars(select(Office).order_by(Office.id)))
