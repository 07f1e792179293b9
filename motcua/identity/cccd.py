"""A strict reader of the QR code printed on a chip citizen ID card (CCCD).

The QR holds `ID12|old ID9 or empty|Full name|DDMMYYYY birth|Nam or Nữ|permanent address|DDMMYYYY
issue date`. A keyboard-wedge scanner types it followed by Enter (sometimes CR LF), and some
cards omit the old number. The 12-digit number (Thông tư 07/2016/TT-BCA) is checked against the
rest: 3 digits of province of birth, 1 digit of century and sex (0/1 = man/woman born 1900–1999,
2/3 = 2000–2099, 4/5 = 2100–2199; 6/7, 8/9 for the two centuries after), 2 digits of the year of
birth, 6 random digits.

`parse` returns a `Card`, which holds the raw values only as long as the request needs them:
callers keep `citizen_ref` (a keyed hash) and the age band, never the card itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from motcua.identity.provinces import PROVINCES

MAX_LENGTH = 500  # a real card's QR text is about 120 characters; more is not a card
_ID = re.compile(r"^\d{12}$")
_OLD_ID = re.compile(r"^(\d{9})?$")
_DATE = re.compile(r"^\d{8}$")
SEXES = {"nam": "M", "nữ": "F"}
# Age bands reports may keep (no birth date, no exact age).
BANDS = ((18, "<18"), (35, "18-34"), (60, "35-59"))
ELDERLY_BAND = "60+"


class CardError(ValueError):
    """Not a readable CCCD; `reason` says why, for logs and tests (never the card's content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Card:
    number: str = field(repr=False)
    name: str = field(repr=False)
    birth: date = field(repr=False)
    sex: str = field(repr=False)  # "M" or "F"

    @property
    def given_name(self) -> str:
        """The last word of a Vietnamese full name is the given name (Nguyễn Thị Lan -> Lan)."""
        return self.name.split()[-1]

    def age_on(self, day: date) -> int:
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))

    def __repr__(self) -> str:  # a traceback or a log line must never show the card
        return "Card(<hidden>)"


def _date(text: str, what: str) -> date:
    if not _DATE.match(text):
        raise CardError(f"{what}: not DDMMYYYY")
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise CardError(f"{what}: no such date") from None


def parse(text: str, today: date | None = None) -> Card:
    """The card behind a scanned QR text, or CardError. `today` (the office's business day)
    refuses birth dates in the future."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise CardError("length")
    # Scanners add CR/LF at the end; some prefix or suffix stray spaces. Nothing else is forgiven.
    text = unicodedata.normalize("NFC", text.strip().strip("\r\n").strip())
    parts = text.split("|")
    if len(parts) != 7:
        raise CardError(f"{len(parts)} fields, not 7")
    number, old, name, birth_text, sex_text, _address, issued_text = (p.strip() for p in parts)
    if not _ID.match(number):
        raise CardError("number: not 12 digits")
    if not _OLD_ID.match(old):
        raise CardError("old number: not 9 digits")
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise CardError("control characters")
    name = " ".join(name.split())
    if not name or any(ch.isdigit() for ch in name):
        raise CardError("name")
    sex = SEXES.get(sex_text.casefold())
    if sex is None:
        raise CardError("sex: not Nam or Nữ")
    birth = _date(birth_text, "birth")
    issued = _date(issued_text, "issue date")
    if number[:3] not in PROVINCES:
        raise CardError("number: unknown province code")
    century_sex = int(number[3])
    if 1900 + 100 * (century_sex // 2) != birth.year // 100 * 100:
        raise CardError("number: century digit disagrees with the birth date")
    if ("M", "F")[century_sex % 2] != sex:
        raise CardError("number: sex digit disagrees with the card")
    if number[4:6] != f"{birth.year % 100:02d}":
        raise CardError("number: year digits disagree with the birth date")
    if issued < birth or (today is not None and (birth > today or issued > today)):
        raise CardError("dates out of order")
    return Card(number=number, name=name, birth=birth, sex=sex)


def citizen_ref(secret: str, number: str) -> str:
    """HMAC-SHA256 of the ID number with the instance's secret: links one citizen's visits
    without keeping the number (and cannot be reversed by hashing all 10^12 numbers without it)."""
    key = hmac.new(secret.encode(), b"motcua.citizen_ref", hashlib.sha256).digest()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def age_band(age: int) -> str:
    for limit, band in BANDS:
        if age < limit:
            return band
    return ELDERLY_BAND


def looks_like_card(text: str) -> bool:
    """Whether a scan is meant as a CCCD (12 digits then '|'), as opposed to a dossier receipt."""
    return bool(re.match(r"^\s*\d{12}\|", text or ""))
