"""Interval arithmetic on printed numbers, for telling rounding from inconsistency.

A number printed with *d* decimals stands for every value that rounds to it:
``12.34`` is ``[12.335, 12.345]``.  Carrying those intervals through a sum or a
ratio gives every value the printed inputs can produce; a stated result is
*consistent* with its inputs exactly when its own interval meets that range.
This is the audit's only tolerance rule: no hand-picked epsilon.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


def half_ulp(value: Decimal) -> Decimal:
    """Half a unit in the last printed place: 0.005 for ``12.34``, 0.5 for ``2941``."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(5) * Decimal(10) ** (exponent - 1)


@dataclass(frozen=True)
class Interval:
    lo: Decimal
    hi: Decimal

    @classmethod
    def printed(cls, value: Decimal) -> Interval:
        h = half_ulp(value)
        return cls(value - h, value + h)

    @classmethod
    def exact(cls, value: Decimal | int) -> Interval:
        v = Decimal(value)
        return cls(v, v)

    @property
    def mid(self) -> Decimal:
        return (self.lo + self.hi) / 2

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def __mul__(self, other: Interval) -> Interval:
        products = [a * b for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(products), max(products))

    def __truediv__(self, other: Interval) -> Interval:
        if other.lo <= 0 <= other.hi:
            raise ZeroDivisionError("interval divisor contains zero")
        quotients = [a / b for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(quotients), max(quotients))

    def meets(self, other: Interval) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi


def round_like(value: Decimal, template: Decimal) -> Decimal:
    """Round ``value`` half-up to the number of decimals printed in ``template``."""
    exponent = template.as_tuple().exponent
    assert isinstance(exponent, int)
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
