"""The password rule, the same wherever a password is set (CLI, manager pages).

At least MIN_LENGTH characters, and not guessable: zxcvbn (Dropbox's estimator, with its lists
of the most common passwords, names and words, keyboard walks, repeats and sequences) must
estimate at least 10^8 guesses (its score 2, enough against online guessing, which the sign-in
limits throttle). The user's own name and the Vietnamese words staff reach for first count as
dictionary words too."""

from __future__ import annotations

MIN_LENGTH = 8
MAX_LENGTH = 128  # scrypt hashes anything, but nobody types more; bounds the estimator's work
MIN_SCORE = 2
# Words of this domain that a Vietnamese office would try first ("mật khẩu" is "password").
LOCAL_WORDS = ("matkhau", "mat khau", "motcua", "mot cua", "quanly", "canbo", "admin", "hanhchinh", "vietnam", "hanoi", "saigon")


def problem(password: str, *, username: str = "", full_name: str = "") -> tuple[str, str] | None:
    """None when the password may be used, else why not (Vietnamese, English)."""
    if len(password) < MIN_LENGTH:
        return (f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự", f"the password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        return (f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự", f"the password may have at most {MAX_LENGTH} characters")
    from zxcvbn import zxcvbn

    inputs = [w for w in (username, full_name, *full_name.split(), *LOCAL_WORDS) if w]
    if zxcvbn(password, user_inputs=inputs)["score"] < MIN_SCORE:
        return ("Mật khẩu quá dễ đoán (mật khẩu phổ biến, lặp ký tự, dãy số hoặc tên): hãy dùng một cụm từ dài hơn",
                "the password is too easy to guess (a common password, a repeat, a sequence or a name): use a longer phrase")
    return None
