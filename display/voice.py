"""Vietnamese reading of ticket numbers, ticket codes and announcement texts.

Conventions (northern standard, as announced at reception counters):

* "nghìn" (not "ngàn") for thousands, "tỷ" for 10^9, "linh" (not "lẻ") for a zero ten
  inside a group: 105 "một trăm linh năm".
* Unit after "mươi" (20..99): 1 → "mốt", 4 → "tư", 5 → "lăm"; after "mười" (10..19):
  1 → "một", 4 → "bốn" ("mười tư" is not standard), 5 → "lăm". After "linh" the plain
  digit: 101 "một trăm linh một", 104 "một trăm linh bốn", 105 "một trăm linh năm".
* A group of three digits after a higher group is read in full ("không trăm", "linh"):
  1005 "một nghìn không trăm linh năm", 1015 "một nghìn không trăm mười lăm".
* A group that is all zeros is dropped, as people say it, instead of the
  cheque-style "không nghìn": 1 000 001 "một triệu không trăm linh một",
  1 000 100 "một triệu một trăm", 1 001 000 "một triệu không trăm linh một nghìn".

`num2words` is not used: it reads 1015 as "một nghìn lẻ mười lăm".
"""

from __future__ import annotations

import re
import string
import unicodedata

MAX_NUMBER = 999_999_999_999
DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Scale words for groups of three digits, lowest first.
SCALES = ("", "nghìn", "triệu", "tỷ")

# Letter names as spoken when spelling a code aloud (traditional names, used on radio,
# for licence plates and at counters), one word each so that each maps to one clip.
# "A" keeps its capital so that the lone letter is not read as the particle "a" in a
# caption; the audio lookup is case-insensitive.
LETTER_NAMES: dict[str, str] = {
    "A": "A",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e-lờ",
    "M": "em-mờ",
    "N": "en-nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e-rờ",
    "S": "ét-xì",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê-kép",
    "X": "ích-xì",
    "Y": "i-dài",
    "Z": "dét",
}

# Separators people print inside codes ("A-001", "A 001", "A.001"); not spoken.
_CODE_SEPARATORS = frozenset("-_. /")


def _check_number(n: int) -> None:
    # bool is an int subclass; True must not become "một".
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"cannot read a negative number: {n}")
    if n > MAX_NUMBER:
        raise ValueError(f"number too large to read: {n} (max {MAX_NUMBER})")


def _tens_and_units(tens: int, units: int, *, after_hundreds: bool) -> list[str]:
    """Words for the last two digits of a group; `after_hundreds` adds "linh" for 0x."""
    if tens == 0:
        if units == 0:
            return []
        return ["linh", DIGITS[units]] if after_hundreds else [DIGITS[units]]
    if tens == 1:
        words = ["mười"]
        if units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGITS[units])
        return words
    words = [DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt")
    elif units == 4:
        words.append("tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def _group_words(group: int, *, full: bool) -> list[str]:
    """Words for 1..999; `full` reads leading zeros ("không trăm") after a higher group."""
    hundreds, rest = divmod(group, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    words += _tens_and_units(tens, units, after_hundreds=bool(words))
    return words


def number_to_words(n: int) -> str:
    """Read a non-negative integer (up to 999 999 999 999) as Vietnamese words."""
    _check_number(n)
    if n == 0:
        return DIGITS[0]
    groups: list[int] = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue  # empty groups are not spoken (see module docstring)
        words += _group_words(group, full=bool(words))
        if SCALES[index]:
            words.append(SCALES[index])
    return " ".join(words)


def _code_runs(code: str) -> list[str]:
    """Split a ticket code into runs of letters (one char each) and runs of digits."""
    runs: list[str] = []
    digits = ""
    for char in code:
        if char in _CODE_SEPARATORS:
            if digits:
                runs.append(digits)
                digits = ""
            continue
        if "0" <= char <= "9":
            digits += char
            continue
        if digits:
            runs.append(digits)
            digits = ""
        letter = char.upper()
        if letter not in LETTER_NAMES:
            raise ValueError(f"cannot spell character {char!r} in code {code!r}")
        runs.append(letter)
    if digits:
        runs.append(digits)
    return runs


def code_to_words(code: str) -> str:
    """Spell a ticket code: letters by name, each digit run as one number.

    "A001" → "A một", "B105" → "bê một trăm linh năm", "1005" → "một nghìn không trăm
    linh năm". Leading zeros are dropped because callers hear the number, not the print.
    """
    if not isinstance(code, str):
        raise TypeError(f"expected a str code, got {type(code).__name__}")
    runs = _code_runs(unicodedata.normalize("NFC", code.strip()))
    if not runs:
        raise ValueError(f"empty ticket code: {code!r}")
    return " ".join(number_to_words(int(run)) if run[0].isdigit() else LETTER_NAMES[run] for run in runs)


def counter_to_words(counter: str | int) -> str:
    """Read a counter label: numbers as numbers, short codes ("3B", "VIP") spelled.

    A label with spaces ("Quầy ưu tiên") is kept as written; the voice pack must then
    have clips for its words.
    """
    if isinstance(counter, int) and not isinstance(counter, bool):
        return number_to_words(counter)
    if not isinstance(counter, str):
        raise TypeError(f"expected a str or int counter, got {type(counter).__name__}")
    label = " ".join(unicodedata.normalize("NFC", counter).split())
    if not label:
        raise ValueError("empty counter label")
    if label.isdigit():
        return number_to_words(int(label))
    if " " not in label:
        try:
            return code_to_words(label)
        except ValueError:
            pass
    return label


def _template_fields(template: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"malformed announcement template {template!r}: {exc}") from None
    fields = {name for _, name, _, _ in parsed if name is not None}
    unknown = fields - {"number", "counter"}
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {sorted(unknown)} in template {template!r}; "
            "use {number} and {counter}"
        )
    return fields


def announcement_parts(template: str, code: str, counter: str | int) -> list[str]:
    """The announcement as spoken segments: literal template text and filled fields.

    Segment boundaries are where a speaker pauses briefly; `display.announce` uses them.
    """
    _template_fields(template)
    parts: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal.strip():
            parts.append(" ".join(literal.split()))
        if name == "number":
            parts.append(code_to_words(code))
        elif name == "counter":
            parts.append(counter_to_words(counter))
    return [unicodedata.normalize("NFC", part) for part in parts]


def announcement_text(template: str, code: str, counter: str | int) -> str:
    """Fill `{number}` with the spelled code and `{counter}` with the read counter."""
    text = " ".join(announcement_parts(template, code, counter))
    # No space before punctuation that followed a placeholder ("{counter}." → "ba.").
    return re.sub(r"\s+([,.;:!?])", r"\1", text)
