"""Citizens at home: the office's remote-number settings, the sites that may embed the public
wait board, and the `<iframe>` snippet for the commune's website. Saved like the other settings
pages (validated with config.toml's rules, audited as "settings")."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _

from manager import config_forms as F
from manager.access import page_office
from manager.config.base import ROLES, bp
from manager.config.settings import settings_page
from motcua.auth import login_required_page
from motcua.engine.remote import RemoteSettings
from motcua.models import Office
from motcua.state import state


def embed_snippet(office: Office) -> str:
    """What the commune's web editor pastes: the board at its public address, sized for a column."""
    address = state().public_address(url_for("public_pages.board", code=office.code))
    title = _("Bảng chờ công khai — %(name)s", name=office.name).replace('"', "&quot;")
    return f'<iframe src="{address}" title="{title}" width="100%" height="600" style="border:0" loading="lazy"></iframe>'


@bp.route("/remote", methods=["GET", "POST"])
@login_required_page(*ROLES)
def remote():
    with state().db.read() as s:
        office = page_office(s)
        rs = RemoteSettings.of(office.settings)
        ancestors = list((office.settings or {}).get("board_frame_ancestors") or [])
    form = F.RemoteForm(data={
        "remote_enabled": rs.enabled, "remote_share": rs.share, "remote_phone_required": rs.phone_required,
        "remote_per_phone_per_day": rs.per_phone, "remote_check_in": rs.check_in, "check_in_grace_minutes": rs.grace_minutes,
        "board_frame_ancestors": "\n".join(ancestors),
    } if request.method == "GET" else None)

    def updates(_office: Office) -> dict[str, Any]:
        sites = [line.strip() for line in (form.board_frame_ancestors.data or "").splitlines() if line.strip()]
        return {
            "remote_enabled": bool(form.remote_enabled.data), "remote_share": form.remote_share.data,
            "remote_phone_required": bool(form.remote_phone_required.data), "remote_per_phone_per_day": form.remote_per_phone_per_day.data,
            "remote_check_in": bool(form.remote_check_in.data), "check_in_grace_minutes": form.check_in_grace_minutes.data,
            "board_frame_ancestors": sites,
        }

    return settings_page(form, _("Lấy số từ xa và bảng chờ công khai"), updates,
                         _("Công dân lấy số trên điện thoại tại %(url)s.", url=state().public_address(url_for("public_pages.office", code=office.code))),
                         template="manager/config/remote.html", embed=lambda _s, o: embed_snippet(o))
