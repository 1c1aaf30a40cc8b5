"""Build ``src/shuibao/services/data/common-passwords.txt`` from the NCSC top-100,000 list.

Run once by a maintainer when the source list changes; the file it writes is committed.  Source: the UK National
Cyber Security Centre's ``PwnedPasswordsTop100k.txt`` (the 100,000 passwords seen most often in Troy Hunt's Have I
Been Pwned data set), also in SecLists as ``Passwords/Common-Credentials/100k-most-used-passwords-NCSC.txt``.
Usage::

    python tools/build_password_blocklist.py PwnedPasswordsTop100k.txt

Only entries the policy can meet are kept (see ``shuibao.services.platform.passwords``): a password is compared in lower
case, whole and by its stem (letters left after stripping leading/trailing digits, punctuation and spaces), so an
entry matters only if it is at least ``MIN_LENGTH`` long or is its own stem of at least ``MIN_STEM`` characters.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from shuibao.services.platform.passwords import MIN_LENGTH, MIN_STEM, stem  # noqa: E402

SOURCE_SHA256 = "3fd4ce60530d6ee1085350838f9c748eff618ecd9ec0e4aba9b90f778c557ff5"  # the copy in NOTICE.md
OUT = Path(__file__).resolve().parents[1] / "src" / "shuibao" / "services" / "data" / "common-passwords.txt"


def main(source: str) -> None:
    raw = Path(source).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{source}: SHA-256 {digest}, expected {SOURCE_SHA256} (a different list?)")
    lines = raw.decode("utf-8").replace("\r", "").split("\n")
    entries = lines[lines.index("--") + 1:]  # the NCSC file opens with three lines of notes and a "--" line
    low = {e.lower() for e in entries if e.strip()}
    keep = sorted(e for e in low if len(e) >= MIN_LENGTH or (len(e) >= MIN_STEM and stem(e) == e))
    OUT.write_text("\n".join(keep) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(keep)} of {len(entries)} entries")


if __name__ == "__main__":
    main(sys.argv[1])
