"""Issuing from a citizen's card (`id_qr`) or a dossier receipt (`receipt_qr`): the branch of
POST /api/v1/tickets that reads them (motcua.engine.citizens, motcua.engine.dossiers)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from motcua.api import schemas as S
from motcua.auth import Principal
from motcua.engine import citizens, dossiers
from motcua.engine.tickets import Issued


def secret() -> str:
    """The instance secret the citizen_ref HMAC is keyed with (instance/secret_key)."""
    return current_app.config["SECRET_KEY"]


def issue(s: Session, office_id: int, body: S.IssueTicket, key: str | None, p: Principal, *,
          look_for_replay: bool) -> tuple[Issued, dict]:
    """(issued, what the answer adds): `citizen` for a card, `dossier` for a receipt, and
    `existing` when the card's or the dossier's ticket still waiting today is answered instead."""
    common = {"idempotency_key": key, "device_id": p.device_id, "user_id": p.user_id, "look_for_replay": look_for_replay}
    if body.receipt_qr is not None:
        issued, dossier, existing = dossiers.issue_from_receipt(s, office_id, body.receipt_qr, priority=body.priority or None, **common)
        return issued, {"dossier": dossier.code if dossier else None, "existing": existing}
    issued, citizen, existing = citizens.issue_with_card(s, office_id, body.service, body.id_qr, secret(), priority=body.priority, **common)
    return issued, {"citizen": citizen.answer(), "existing": existing}
