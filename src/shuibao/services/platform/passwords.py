"""The password policy for web accounts, after NIST SP 800-63B-4 §3.1.1.2 (Password verifiers): a minimum
length, no composition rules, and a check against a list of commonly used or compromised passwords and against
context-specific words (the user name, the service's name).  Checked when a password is set, never at login."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

# NIST SP 800-63B-4 §3.1.1.2: passwords used as the only authentication factor (as here: no second factor) SHALL
# be at least 15 characters; a verifier SHOULD allow at least 64.  256 bounds the work one request can ask for.
MIN_LENGTH = 15
MAX_LENGTH = 256
MIN_STEM = 4  # a stem shorter than this ("abc" in "abc-2025-…") is too common a fragment to refuse on
MIN_DISTINCT = 4  # "aaaaaaaaaaaaaaa", "121212121212121": NIST's "repetitive or sequential characters"
CONTEXT_WORDS = ("shuibao", "水保")  # the service's own name (NIST: context-specific words)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def stem(password: str) -> str:
    """The word inside a password: leading and trailing digits, punctuation and spaces stripped
    ("Password2024!" → "Password"), so a common word with a number stuck on is still recognised."""
    return _EDGES.sub("", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list (lower case): see data/common-passwords.NOTICE.md for its source and licence."""
    text = (resources.files("shuibao.services.platform") / "data" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.split("\n") if line)


def problems(password: str, username: str) -> list[str]:
    """What is wrong with ``password`` for ``username`` (empty when it is acceptable), in words."""
    out = []
    if not password.strip():
        return ["password: empty or only spaces"]
    if len(password) < MIN_LENGTH:
        out.append(f"password: at least {MIN_LENGTH} characters (it has {len(password)}); a few unrelated words "
                   "make a long password that is easy to remember")
    if len(password) > MAX_LENGTH:
        out.append(f"password: at most {MAX_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT:
        out.append(f"password: repeats too few characters (at least {MIN_DISTINCT} different ones)")
    low, name = password.lower(), username.strip().lower()
    if name and name in low:
        out.append("password: must not contain the user name")
    if any(word in low for word in CONTEXT_WORDS):
        out.append("password: must not contain the platform's name")
    word = stem(low)
    if low in common_passwords() or (len(word) >= MIN_STEM and word in common_passwords()):
        out.append("password: it is on the list of commonly used passwords (or is one with digits or signs "
                   "around it); choose another")
    return out
