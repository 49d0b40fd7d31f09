"""Suspect documents: a body that parsed, but whose content should not be believed yet.

A vendor page that suddenly lists nothing, or a fraction of what it listed, is far
more often a redesign, a login or bot wall, or an error page served with a 200 than a
purge. ``suspect`` says why a new document looks like that, or ``None``; it is pure
(no I/O) and shared by both paths: the daemon holds a suspect document until it is seen
again (``monitor/check/analyse.py``), ``reassess diff`` reports it as ``"suspect": true``
and fires nothing (``triggers/offline.py``).

The raw ``body`` is part of the signature so that checks of the bytes themselves
(bot-wall, login and error-page signatures, decoding) can join the size checks here.
"""

from __future__ import annotations

from .base import Document, KindModule

# A drop to under this share of the previous size, from at least MIN_GUARDED items,
# is held back as suspect until seen again.
VANISH_SHARE = 0.5
MIN_GUARDED = 4


def suspect(kind: KindModule, old: Document | None, new: Document, *,
            body: bytes | None = None) -> str | None:
    """Why ``new`` (after ``old``, or as a first version) is suspect; ``None`` if it is not.

    ``body`` is the raw fetched body ``new`` was parsed from, when the caller has it.
    """
    size = kind.size(new)
    if size == 0:
        return "empty: the document holds nothing (an error, login or bot page?)"
    if old is None:
        return None
    old_size = kind.size(old)
    if old_size >= MIN_GUARDED and size < old_size * VANISH_SHARE:
        return (f"collapsed: {size} items where there were {old_size} "
                f"(under {VANISH_SHARE:.0%} of them)")
    return None
