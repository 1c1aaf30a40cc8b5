"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, check character mod 31.

Positions 1–2: registration authority and organisation type (any character of the set: implementations
disagree on the full tables, so unknown ones are not refused); 3–8: administrative division code (digits,
GB/T 2260); 9–17: organisation code (GB 11714); 18: the check character
``C18 = (31 − Σ Ci·Wi mod 31) mod 31`` with ``Wi = 3^(i−1) mod 31`` (GB 32100-2015 §4, GB/T 17710).
"""

from __future__ import annotations

from shuibao.errors import N_, Text

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of the code (digits and capitals without I, O, Z, S, V), valued 0–30 in this order."""
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def check_character(first17: str) -> str:
    """The check character of the first 17 characters (each from :data:`CHARSET`)."""
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> Text | None:
    """What is wrong with ``code`` (None when it is a valid code), in words a person can act on."""
    if len(code) != 18:
        return N_("{code!r} has {n} characters, a unified social credit code has 18", code=code, n=len(code))
    bad = sorted({c for c in code if c not in CHARSET})
    if bad:
        return N_("{code!r}: {chars} not allowed (digits and capital letters without I, O, Z, S, V)", code=code,
                  chars="".join(bad))
    if not code[2:8].isdigit():
        return N_("{code!r}: characters 3–8 (the administrative division code) must be digits", code=code)
    expected = check_character(code[:17])
    if code[17] != expected:
        return N_("{code!r}: check character {found} does not match, expected {expected} (GB 32100-2015)",
                  code=code, found=code[17], expected=expected)
    return None


def normalise_credit_code(code: str) -> str:
    """The code as stored: spaces removed, letters in capitals (the check is made on this form)."""
    return "".join(code.split()).upper()
