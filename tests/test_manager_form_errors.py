"""Every configuration form, given bad input of each kind, answers 422 with a plain message
under the input it is about (aria-invalid and aria-describedby lead a screen reader to it): in
Vietnamese on the Vietnamese page, in English on the English page, never pydantic's or WTForms'
own English ("This field is required.", "String should match pattern…")."""

from __future__ import annotations

import re

import pytest

from motcua.models import Counter, Printer, PriorityGroup, Service
from tests.support.demo import login
from tests.support.forms import FIELD_HT, csrf, manager_client, one

RAW = re.compile(r"This field|should|String|Dictionary|Not a valid|Number must|Field cannot|Invalid|Value error|value_error|\^\[")

COUNTER_1 = {"number": "1", "name": "", "active": "y", "weight-HT": "1"}
PRIORITY_NEW = {"code": "veteran", "name": "Người có công", "name_en": "", "sort_order": "0", "active": "y"}
DEVICE_NEW = {"name": "Kiosk tầng 2", "kind": "kiosk", "counter": "", "printer": "", "backup_printer": ""}
USER_NEW = {"username": "canbo9", "full_name": "Cán bộ 9", "role": "clerk", "counter": "", "password": "mat-khau-dai", "active": "y"}
WEEK = {f"{p}{d}": "" for p in ("work_", "issue_") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ALERTS = {"wait_alert_minutes": "30", "device_offline_minutes": "5", "printer_failure_minutes": "15"}
ANNOUNCE = {"announcement_template": "Xin mời công dân có số thứ tự {number} đến quầy số {counter}", "announcement_repeat": "2"}
RATINGS = {"rating_scale": "Rất hài lòng\nHài lòng\nKhông hài lòng", "rating_scale_en": "Very satisfied\nSatisfied\nDissatisfied",
           "rating_low_count": "1", "rating_seconds": "30"}

# (case, form page, valid input, the bad part, the input the message is under, Vietnamese, English)
CASES = [
    ("field-name-spaces", "fields/{HT}", FIELD_HT, {"name": "   "}, "name", "Ô này cần được điền", "must be filled in"),
    ("field-name-long", "fields/{HT}", FIELD_HT, {"name": "x" * 201}, "name", "tối đa 200 ký tự", "at most 200 characters"),
    ("field-prefix-pattern", "fields/{HT}", FIELD_HT, {"prefix": "a1"}, "prefix", "Tiền tố là 0–3 chữ cái in hoa", "0–3 capital letters"),
    ("field-prefix-taken", "fields/{HT}", FIELD_HT, {"prefix": "B"}, "prefix", "đã dùng cho lĩnh vực", "already used by CT"),
    ("field-start-words", "fields/{HT}", FIELD_HT, {"start": "một"}, "start", "Hãy nhập một số nguyên", "Enter a whole number"),
    ("field-digits-range", "fields/{HT}", FIELD_HT, {"digits": "9"}, "digits", "Hãy nhập số từ 1 đến 6", "from 1 to 6"),
    ("field-minutes-words", "fields/{HT}", FIELD_HT, {"service_minutes": "mười"}, "service_minutes", "Hãy nhập một số", "Enter a number"),
    ("field-minutes-zero", "fields/{HT}", FIELD_HT, {"service_minutes": "0"}, "service_minutes", "phải lớn hơn 0 phút", "more than 0 minutes"),
    ("field-quota-zero", "fields/{HT}", FIELD_HT, {"daily_quota": "0"}, "daily_quota", "từ 1 trở lên", "1 or more"),
    ("field-window-form", "fields/{HT}", FIELD_HT, {"own_windows": "y", "win_mon": "7h30-11h"}, "win_mon",
     "không đúng dạng: hãy viết giờ:phút-giờ:phút", "is not a time span"),
    ("field-window-order", "fields/{HT}", FIELD_HT, {"own_windows": "y", "win_tue": "11:30-07:30"}, "win_tue",
     "giờ kết thúc phải sau giờ bắt đầu", "the end must be after the start"),
    ("field-code-pattern", "fields/new", FIELD_HT, {"code": "Hộ tịch", "prefix": "Z"}, "code", "Mã lĩnh vực gồm 1–16 chữ cái không dấu", "letters without accents"),
    ("field-code-taken", "fields/new", FIELD_HT, {"prefix": "Z"}, "code", "Đã có lĩnh vực mã HT", "field HT exists"),
    ("counter-no-field", "counters/{c1}", COUNTER_1, {"weight-HT": ""}, "weights", "Quầy cần phục vụ ít nhất một lĩnh vực", "at least one field"),
    ("counter-weight-words", "counters/{c1}", COUNTER_1, {"weight-HT": "hai"}, "weight-HT", "Trọng số là một số lớn hơn 0", "weight is a number above 0"),
    ("counter-weight-zero", "counters/{c1}", COUNTER_1, {"weight-HT": "0"}, "weight-HT", "Trọng số là một số lớn hơn 0", "weight is a number above 0"),
    ("counter-number-zero", "counters/{c1}", COUNTER_1, {"number": "0"}, "number", "từ 1 trở lên", "1 or more"),
    ("counter-number-empty", "counters/{c1}", COUNTER_1, {"number": ""}, "number", "Ô này cần được điền", "must be filled in"),
    ("counter-number-taken", "counters/{c1}", COUNTER_1, {"number": "2"}, "number", "Đã có quầy số 2", "counter 2 exists"),
    ("counter-hours-span", "counters/{c1}", COUNTER_1, {"hours": "25:00-26:00"}, "hours", "không đúng dạng", "is not a time span"),
    ("field-booking-share", "fields/{HT}", FIELD_HT, {"booking_share": "101"}, "booking_share", "không quá 100", "at most 100"),
    ("group-code-pattern", "priority/new", PRIORITY_NEW, {"code": "Người già"}, "code", "Mã nhóm gồm 1–32 chữ thường", "lower-case letters"),
    ("group-name-spaces", "priority/{group}", PRIORITY_NEW, {"name": " "}, "name", "Ô này cần được điền", "must be filled in"),
    ("ratio-zero", "priority", {"priority_ratio": "2", "transfer_position": "front"}, {"priority_ratio": "0"}, "priority_ratio",
     "từ 1 trở lên", "1 or more"),
    ("ratio-choice", "priority", {"priority_ratio": "2", "transfer_position": "front"}, {"transfer_position": "middle"}, "transfer_position",
     "Hãy chọn một mục trong danh sách", "Choose one of the listed options"),
    ("printer-timeout", "printers/{printer}", None, {"timeout": "99"}, "timeout", "đến 30 giây", "at most 30 s"),
    ("printer-name-spaces", "printers/{printer}", None, {"name": "  "}, "name", "Ô này cần được điền", "must be filled in"),
    ("device-name-empty", "devices/new", DEVICE_NEW, {"name": ""}, "name", "Ô này cần được điền", "must be filled in"),
    ("device-needs-counter", "devices/new", DEVICE_NEW, {"kind": "rating"}, "counter", "cần gắn với một quầy", "need a counter"),
    ("user-name-pattern", "users/new", USER_NEW, {"username": "cán bộ"}, "username", "Tên đăng nhập 3–64 ký tự", "3–64 characters"),
    ("user-password-short", "users/new", USER_NEW, {"password": "ngan"}, "password", "Mật khẩu cần ít nhất 8 ký tự", "at least 8 characters"),
    ("schedule-span", "schedule", {**WEEK, "holidays": ""}, {"work_mon": "8h-17h"}, "work_mon", "không đúng dạng", "is not a time span"),
    ("schedule-holiday", "schedule", {**WEEK, "holidays": ""}, {"holidays": "31/02/2027"}, "holidays", "Ngày “31/02/2027” không đúng", "is not a date"),
    ("alerts-empty", "alerts", ALERTS, {"wait_alert_minutes": ""}, "wait_alert_minutes", "Ô này cần được điền", "must be filled in"),
    ("alerts-zero", "alerts", ALERTS, {"wait_alert_minutes": "0"}, "wait_alert_minutes", "từ 1 trở lên", "1 or more"),
    ("alerts-device-zero", "alerts", ALERTS, {"device_offline_minutes": "0"}, "device_offline_minutes", "từ 1 trở lên", "1 or more"),
    ("alerts-field", "alerts", ALERTS, {"field-alert-HT": "0"}, "field-alert-HT", "số phút từ 1 trở lên", "1 minute or more"),
    ("announce-no-number", "announcements", ANNOUNCE, {"announcement_template": "Mời đến quầy {counter}"}, "announcement_template",
     "Câu mời phải có {number}", "needs {number}"),
    ("announce-repeat", "announcements", ANNOUNCE, {"announcement_repeat": "5"}, "announcement_repeat", "không quá 3", "at most 3"),
    ("ratings-one-level", "ratings", RATINGS, {"rating_scale": "Tốt", "rating_scale_en": "Good"}, "rating_scale",
     "Cần ít nhất 2 mức đánh giá", "At least 2 levels"),
    ("ratings-lengths", "ratings", RATINGS, {"rating_scale_en": "Good\nBad"}, "rating_scale_en", "Hai thang cần cùng số mức", "same number of levels"),
    ("kiosk-reset", "kiosk", {"kiosk_reset_seconds": "20", "print_max_age_seconds": "60"}, {"kiosk_reset_seconds": "1"},
     "kiosk_reset_seconds", "từ 5 trở lên", "5 or more"),
]


def ids(app) -> dict[str, int]:
    return {"HT": one(app, Service, code="HT").id, "c1": one(app, Counter, number=1).id,
            "group": one(app, PriorityGroup, code="elderly").id, "printer": one(app, Printer, active=True).id}


def printer_fields(app) -> dict[str, str]:
    p = one(app, Printer, active=True)
    return {"name": p.name, "connection": p.connection, "target": p.target or "", "profile": p.profile or "default",
            "width_dots": str(p.width_dots), "native_qr": "y" if p.native_qr else "", "timeout": str(p.timeout), "active": "y"}


def message_under(page: str, input_id: str) -> str:
    """The message shown under the input, checking that the input points at it."""
    error_id = f"{input_id}-error"
    span = re.search(rf'<span class="field-error" id="{re.escape(error_id)}" role="alert">(.*?)</span>', page, re.S)
    assert span, f"no message under {input_id}"
    if input_id != "weights":  # the weights section: each weight input points at it
        tag = re.search(rf'<(?:input|select|textarea)[^>]*\b(?:id|name)="{re.escape(input_id)}"[^>]*>', page)
        assert tag and 'aria-invalid="true"' in tag.group(0) and f'aria-describedby="{error_id}"' in tag.group(0), tag and tag.group(0)
    return re.sub(r"\s+", " ", span.group(1)).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")


@pytest.mark.parametrize(("case", "path", "valid", "bad", "input_id", "vi", "en"), CASES, ids=[c[0] for c in CASES])
def test_every_form_says_what_to_do_under_the_input(app, demo, case, path, valid, bad, input_id, vi, en) -> None:
    client = app.test_client()
    login(client, demo.admin if path.startswith("printers") else demo.manager)
    url = "/manager/config/" + path.format(**ids(app))
    data = {**(valid if valid is not None else printer_fields(app)), **bad}
    if "own_windows" not in bad:
        data.pop("own_windows", None)
    for lang, expected in (("vi", vi), ("en", en)):
        r = client.post(f"{url}?lang={lang}", data={"csrf_token": csrf(client, url), **data})
        page = r.get_data(as_text=True)
        assert r.status_code == 422, (case, lang, r.status_code)
        shown = message_under(page, input_id)
        assert expected in shown, (case, lang, shown)
        assert not RAW.search(shown), (case, lang, shown)
        if lang == "vi":
            assert not re.search(r"\b(the|must|enter|is)\b", shown, re.I), (case, shown)
        else:
            assert not re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", shown.replace("“", "")), (case, shown)
        # Nothing of it is left at the top of the form as "name: message".
        assert f"{input_id}: " not in page


def test_a_refused_form_keeps_what_was_typed(app, demo) -> None:
    client = manager_client(app, demo)
    url = f"/manager/config/fields/{ids(app)['HT']}"
    r = client.post(url, data={"csrf_token": csrf(client, url), **FIELD_HT, "prefix": "a1", "name": "Hộ tịch và chứng thực"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'value="Hộ tịch và chứng thực"' in page and 'value="a1"' in page
