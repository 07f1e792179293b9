"""The manager's configuration forms as a browser posts them (CSRF token read from the page)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.support.demo import login

FIELD_HT = {
    "code": "HT", "name": "Hộ tịch", "name_en": "Civil status (births, marriages, deaths)", "prefix": "A", "start": "1", "digits": "3",
    "daily_quota": "300", "service_minutes": "8", "sort_order": "0", "active": "y",
    # Bookable as config.toml has it.
    "booking_enabled": "y", "booking_spans": "08:00-11:00, 14:00-16:00", "booking_slot_minutes": "15", "booking_per_slot": "2",
    "booking_share": "50", "booking_days_ahead": "14", "booking_close_minutes_before": "60",
}


def csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page.get_data(as_text=True)).group(1)


def post(client, url: str, data: dict, form_url: str | None = None):
    return client.post(url, data={"csrf_token": csrf(client, form_url or url), **data})


def manager_client(app, demo):
    client = app.test_client()
    login(client, demo.manager)
    return client


def one(app, model, **by):
    with app.extensions["motcua"].db.read() as s:
        return s.scalar(select(model).filter_by(**by))
