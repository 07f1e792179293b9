"""What the API's answers look like to a test."""

from __future__ import annotations


def error_of(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    err = resp.get_json()["error"]
    assert set(err) >= {"code", "message", "message_en"}
    assert err["message"] and err["message_en"] and err["message"] != err["message_en"]
    return err
