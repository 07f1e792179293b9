"""Every message a configuration form shows when its input is refused, written once: plain
Vietnamese (English on the English page), shown under its own input, saying what to do.

Two kinds of refusal reach a form, and both become messages here:
- the form's own shape checks (WTForms: an empty box, not a number, too long, a number out of
  range), through the forms' translations (`WTFORMS`, see `manager.config_forms.ManagerForm`);
- config.toml's rules (pydantic, `messages_of`): by model, field and error type first (the
  prefix's pattern, a counter with no field…), then by error type alone. Rules the core writes as
  "tiếng Việt / English" keep their own words, one language on each page.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from markupsafe import escape
from pydantic import ValidationError


def english() -> bool:
    return has_request_context() and str(get_locale() or "vi").startswith("en")


class Message:
    """A message in both languages; it reads as the page's language wherever it is shown."""

    __slots__ = ("en", "vi")

    def __init__(self, vi: str, en: str) -> None:
        self.vi, self.en = vi, en

    def __str__(self) -> str:
        return self.en if english() else self.vi

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"Message({self.vi!r}, {self.en!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.vi, self.en) == (other.vi, other.en)

    def __hash__(self) -> int:
        return hash((self.vi, self.en))

    @classmethod
    def of(cls, text: str) -> Message:
        """A message the core wrote as "tiếng Việt / English" (one language if it has no " / ")."""
        vi, sep, en = text.partition(" / ")
        return cls(vi, en if sep else vi)


# ---- the forms' own checks (WTForms' messages, by their English text) ----------------------

REQUIRED = ("Ô này cần được điền: hãy nhập nội dung (chỉ dấu cách thì không tính).",
            "This box must be filled in: type something (spaces alone do not count).")
WTFORMS: dict[str, tuple[str, str]] = {
    "This field is required.": REQUIRED,
    "Not a valid integer value.": ("Hãy nhập một số nguyên, không có chữ hay dấu phẩy, ví dụ 3.",
                                   "Enter a whole number, without letters or decimals, e.g. 3."),
    "Not a valid float value.": ("Hãy nhập một số, ví dụ 10 hoặc 7.5 (dùng dấu chấm cho phần lẻ).",
                                 "Enter a number, e.g. 10 or 7.5."),
    "Not a valid decimal value.": ("Hãy nhập một số, ví dụ 10 hoặc 7.5 (dùng dấu chấm cho phần lẻ).",
                                   "Enter a number, e.g. 10 or 7.5."),
    "Number must be at least %(min)s.": ("Số nhỏ quá: hãy nhập số từ %(min)s trở lên.", "Too small: enter %(min)s or more."),
    "Number must be at most %(max)s.": ("Số lớn quá: hãy nhập số không quá %(max)s.", "Too large: enter at most %(max)s."),
    "Number must be between %(min)s and %(max)s.": ("Hãy nhập số từ %(min)s đến %(max)s.", "Enter a number from %(min)s to %(max)s."),
    "Field cannot be longer than %(max)d character.": ("Dài quá: hãy rút gọn, tối đa %(max)d ký tự.",
                                                       "Too long: shorten it to at most %(max)d characters."),
    "Field cannot be longer than %(max)d characters.": ("Dài quá: hãy rút gọn, tối đa %(max)d ký tự.",
                                                        "Too long: shorten it to at most %(max)d characters."),
    "Field must be at least %(min)d character long.": ("Ngắn quá: hãy nhập ít nhất %(min)d ký tự.", "Too short: type at least %(min)d characters."),
    "Field must be at least %(min)d characters long.": ("Ngắn quá: hãy nhập ít nhất %(min)d ký tự.", "Too short: type at least %(min)d characters."),
    "Not a valid choice.": ("Hãy chọn một mục trong danh sách.", "Choose one of the listed options."),
    "Invalid Choice: could not coerce.": ("Hãy chọn một mục trong danh sách.", "Choose one of the listed options."),
    "Invalid input.": ("Nội dung không hợp lệ: hãy kiểm tra và nhập lại.", "Invalid input: check it and type it again."),
    # Flask-WTF's CSRF check: the page was open too long or opened in another session.
    "The CSRF token is missing.": ("Trang đã cũ: hãy tải lại trang rồi nhập lại.", "The page is out of date: reload it and try again."),
    "The CSRF token has expired.": ("Trang đã mở quá lâu: hãy tải lại trang rồi nhập lại.", "The page was open too long: reload it and try again."),
    "The CSRF token is invalid.": ("Trang đã cũ: hãy tải lại trang rồi nhập lại.", "The page is out of date: reload it and try again."),
    "The CSRF session token is missing.": ("Phiên làm việc đã hết: hãy tải lại trang rồi nhập lại.", "Your session ended: reload the page and try again."),
}
PRINTER_TIMEOUT = ("Thời gian chờ máy in từ trên 0 đến 30 giây, ví dụ 4.", "The timeout is more than 0 and at most 30 s, e.g. 4.")
UNKNOWN = ("Nội dung không hợp lệ: hãy kiểm tra và nhập lại.", "Invalid input: check it and type it again.")


class FormTranslations:
    """What WTForms asks for its built-in messages (`Meta.get_translations`): ours, in the
    page's language. A message we do not know gets a plain Vietnamese one, never English."""

    def gettext(self, string: str) -> str:
        vi, en = WTFORMS.get(string, UNKNOWN if string.endswith(".") else (string, string))
        return en if english() else vi

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


TRANSLATIONS = FormTranslations()


# ---- config.toml's rules (pydantic) ----------------------------------------------------------

# By error type: {…} are the error's context (ge, le, min_length…).
BY_TYPE: dict[str, tuple[str, str]] = {
    "missing": REQUIRED,
    "string_too_short": REQUIRED,
    "string_too_long": ("Dài quá: hãy rút gọn, tối đa {max_length} ký tự.", "Too long: shorten it to at most {max_length} characters."),
    "string_pattern_mismatch": ("Không đúng dạng: hãy viết theo hướng dẫn của ô này.", "Not in the expected form: follow this box's hint."),
    "int_parsing": WTFORMS["Not a valid integer value."],
    "int_type": WTFORMS["Not a valid integer value."],
    "int_from_float": WTFORMS["Not a valid integer value."],
    "float_parsing": WTFORMS["Not a valid float value."],
    "float_type": WTFORMS["Not a valid float value."],
    "greater_than_equal": ("Số nhỏ quá: hãy nhập số từ {ge} trở lên.", "Too small: enter {ge} or more."),
    "greater_than": ("Hãy nhập số lớn hơn {gt}.", "Enter a number greater than {gt}."),
    "less_than_equal": ("Số lớn quá: hãy nhập số không quá {le}.", "Too large: enter at most {le}."),
    "less_than": ("Hãy nhập số nhỏ hơn {lt}.", "Enter a number less than {lt}."),
    "too_short": ("Cần ít nhất {min_length} mục: hãy thêm.", "At least {min_length} needed: add more."),
    "too_long": ("Nhiều quá: tối đa {max_length} mục, hãy bớt đi.", "Too many: at most {max_length}, remove some."),
    "literal_error": WTFORMS["Not a valid choice."],
    "enum": WTFORMS["Not a valid choice."],
    "date_from_datetime_parsing": ("Ngày không đúng: hãy viết dd/mm/yyyy, ví dụ 02/09/2026.", "Not a date: write dd/mm/yyyy, e.g. 02/09/2026."),
    "date_parsing": ("Ngày không đúng: hãy viết dd/mm/yyyy, ví dụ 02/09/2026.", "Not a date: write dd/mm/yyyy, e.g. 02/09/2026."),
}

# By model, field and error type: what the rule means for this input.
BY_FIELD: dict[tuple[str, str, str], tuple[str, str]] = {
    ("FieldConfig", "code", "string_pattern_mismatch"): (
        "Mã lĩnh vực gồm 1–16 chữ cái không dấu, chữ số, dấu - hoặc _, ví dụ HT.",
        "The field code is 1–16 letters without accents, digits, - or _, e.g. HT."),
    ("FieldConfig", "prefix", "string_pattern_mismatch"): (
        "Tiền tố là 0–3 chữ cái in hoa không dấu, ví dụ A hoặc HT; để trống nếu số không có tiền tố.",
        "The prefix is 0–3 capital letters without accents, e.g. A or HT; leave it empty for plain numbers."),
    ("FieldConfig", "digits", "greater_than_equal"): ("Số chữ số từ 1 đến 6: hãy nhập, ví dụ 3 (A001).", "Use 1 to 6 digits, e.g. 3 (A001)."),
    ("FieldConfig", "digits", "less_than_equal"): ("Số chữ số từ 1 đến 6: hãy nhập, ví dụ 3 (A001).", "Use 1 to 6 digits, e.g. 3 (A001)."),
    ("FieldConfig", "service_minutes", "greater_than"): ("Thời gian phục vụ phải lớn hơn 0 phút, ví dụ 10.",
                                                         "The service time must be more than 0 minutes, e.g. 10."),
    ("CounterConfig", "fields", "too_short"): (
        "Quầy cần phục vụ ít nhất một lĩnh vực: hãy nhập trọng số (ví dụ 1) bên cạnh lĩnh vực quầy phục vụ.",
        "A counter must serve at least one field: type a weight (e.g. 1) next to each field it serves."),
    ("PriorityGroupConfig", "code", "string_pattern_mismatch"): (
        "Mã nhóm gồm 1–32 chữ thường không dấu, chữ số hoặc dấu _, ví dụ elderly.",
        "The group code is 1–32 lower-case letters without accents, digits or _, e.g. elderly."),
    ("PrinterConfig", "timeout", "greater_than"): PRINTER_TIMEOUT,
    ("PrinterConfig", "timeout", "less_than_equal"): PRINTER_TIMEOUT,
    ("OfficeConfig", "rating_scale", "too_short"): ("Cần ít nhất 2 mức đánh giá: mỗi dòng một mức.", "At least 2 levels are needed: one per line."),
    ("OfficeConfig", "rating_scale_en", "too_short"): ("Cần ít nhất 2 mức đánh giá: mỗi dòng một mức.", "At least 2 levels are needed: one per line."),
    ("OfficeConfig", "rating_scale", "too_long"): ("Nhiều nhất 7 mức đánh giá: hãy bớt dòng.", "At most 7 levels: remove some lines."),
    ("OfficeConfig", "rating_scale_en", "too_long"): ("Nhiều nhất 7 mức đánh giá: hãy bớt dòng.", "At most 7 levels: remove some lines."),
}


def _format(template: str, ctx: dict[str, Any]) -> str:
    try:
        return template.format(**{k: (f"{v:g}" if isinstance(v, float) else v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template


def message_of(model: str, field: str, err: dict[str, Any]) -> Message:
    """One pydantic error as people read it."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "value_error":  # the core's own rules, written "tiếng Việt / English"
        return Message.of(str(ctx.get("error", err["msg"])).removeprefix("Value error, "))
    vi, en = BY_FIELD.get((model, field, kind)) or BY_TYPE.get(kind) or UNKNOWN
    return Message(_format(vi, ctx), _format(en, ctx))


def messages_of(model: str, exc: ValidationError) -> dict[str, list[Message]]:
    """{input name: [messages]}; an error of the whole model is under "__all__"."""
    out: dict[str, list[Message]] = {}
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        key = loc[0] if loc else "__all__"
        out.setdefault(key, []).append(message_of(model, key, err))
    return out
