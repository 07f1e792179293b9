"""One editor for every configuration entity (fields, counters, priority groups, printers,
devices, users): GET shows the form; POST checks its shape, then in one write transaction
validates with config.toml's rules, creates or updates the row, writes the audit entry and
announces `config.updated` (manager.config_service.apply); a refused change shows the form
again with its errors. An entity says only what differs: its form, how it loads, what it
writes, what its audit entry holds and what the page says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Blueprint, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from manager import config_service as cs
from manager.access import page_office
from manager.config.base import ROLES, done, get_in_office, office_args, render_form, show_errors, show_secret
from motcua.auth import login_required_page
from motcua.models import Office
from motcua.state import state


@dataclass(frozen=True)
class Secret:
    """A token or password made by the change, shown once after the commit."""

    title: str
    value: str
    note: str
    url: str | None = None


@dataclass
class Saved:
    obj: Any
    secret: Secret | None = None


class Editor:
    model: ClassVar[type]
    form_class: ClassVar[type]
    entity: ClassVar[str]  # the audit log's entity
    list_endpoint: ClassVar[str]  # where a saved change goes back to
    locked_on_edit: ClassVar[frozenset[str]] = frozenset()  # fields shown read-only once created

    # ---- what an entity says ---------------------------------------------------------------

    def load(self, s: Session, office: Office, obj_id: int) -> Any:
        return get_in_office(s, self.model, obj_id, office)

    def make_form(self, s: Session, office: Office, obj: Any | None) -> Any:
        return self.form_class(obj=obj) if obj is not None else self.form_class()

    def title(self, obj: Any | None) -> str:
        raise NotImplementedError

    def context(self, s: Session, office: Office, obj: Any | None, form: Any) -> dict[str, Any]:
        """Extra template values of the form page (read-only fields, weights, windows…)."""
        return {"locked": set(self.locked_on_edit) if obj is not None else set()}

    def write(self, s: Session, office: Office, form: Any, obj: Any | None) -> Saved:
        """Validate (raise manager.config_service.Invalid) and create or update the row."""
        raise NotImplementedError

    def snapshot(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def audit_id(self, obj: Any) -> Any:
        raise NotImplementedError

    def audit_values(self, before: dict[str, Any], obj: Any, form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        return before, self.snapshot(obj)

    def payload(self, s: Session, office: Office, obj: Any) -> dict[str, Any] | None:
        """What listeners get with `config.updated` beyond the keys that changed."""
        return None

    def message(self, form: Any, obj: Any) -> str:
        raise NotImplementedError

    def after_commit(self) -> None:
        """Runs once the change is committed (closing revoked sockets, say)."""

    # ---- the page ------------------------------------------------------------------------

    def page(self, obj_id: int | None = None):
        db = state().db
        with db.read() as s:
            office = page_office(s)
            obj = self.load(s, office, obj_id) if obj_id else None
            form = self.make_form(s, office, obj)
            title = self.title(obj)
            back = url_for(self.list_endpoint, **office_args(office))
            extra = self.context(s, office, obj, form)
            if not form.validate_on_submit():
                return render_form(s, office, title, form, back, 422 if request.method == "POST" else 200, **extra)
        try:
            with db.write() as s:
                office = page_office(s)
                obj = self.load(s, office, obj_id) if obj_id else None
                before = self.snapshot(obj) if obj is not None else {}
                saved = self.write(s, office, form, obj)
                s.flush()
                before, after = self.audit_values(before, saved.obj, form)
                cs.apply(s, office, current_user.id, self.entity, self.audit_id(saved.obj), "update" if before else "create",
                         before, after, data=self.payload(s, office, saved.obj))
        except cs.Invalid as exc:
            show_errors(form, exc, *(v for v in extra.values() if isinstance(v, FlaskForm)))
            with db.read() as s:
                office = page_office(s)
                return render_form(s, office, title, form, back, exc.status, **extra)
        self.after_commit()
        if saved.secret is not None:
            with db.read() as s:
                office = page_office(s)
                return show_secret(s, office, saved.secret.title, saved.secret.value, saved.secret.note, saved.secret.url)
        return done(self.message(form, saved.obj), self.list_endpoint, office)

    def register(self, bp: Blueprint, path: str, name: str, id_arg: str) -> None:
        """<path>/new (endpoint <name>_new) and <path>/<int:id_arg> (endpoint <name>_edit)."""

        def view(**kwargs: int):
            return self.page(kwargs.get(id_arg))

        view = login_required_page(*ROLES)(view)
        bp.add_url_rule(f"{path}/new", f"{name}_new", view, methods=["GET", "POST"])
        bp.add_url_rule(f"{path}/<int:{id_arg}>", f"{name}_edit", view, methods=["GET", "POST"])
