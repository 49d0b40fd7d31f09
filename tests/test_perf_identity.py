"""The daemon's per-check shortcuts answer exactly as what they replaced."""

from __future__ import annotations

import asyncio
import random

from sources.fetch import FetchOptions
from sources.read.encoding import _NOT_TEXT, undecodable


def _reference(text: str) -> int:
    """The per-character rule ``undecodable`` counted with before its one regex scan."""
    return sum(1 for ch in text if (ch < " " and ch not in "\t\n\r\f") or
               "\x7f" <= ch <= "\x9f" or ch == "\ufffd")


def test_not_text_counts_as_the_per_character_rule() -> None:
    every = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    assert len(_NOT_TEXT.findall(every)) == _reference(every)
    for ch in every[:0x3000]:
        assert len(_NOT_TEXT.findall(ch)) == _reference(ch), repr(ch)
    rng = random.Random(5)
    for _ in range(200):
        text = "".join(chr(rng.choice((rng.randrange(0x20), rng.randrange(0x7f, 0xa0),
                                       rng.randrange(0x20, 0x7f), 0xfffd)))
                       for _ in range(rng.randrange(1, 300)))
        assert len(_NOT_TEXT.findall(text)) == _reference(text)
    assert undecodable(b"plain text\n" * 50) is None
    assert undecodable(bytes(range(32)) * 40) is not None


def test_kept_client_is_shared_and_replaced_when_the_options_change() -> None:
    from monitor.check.pipeline import _SharedFetcher

    async def main() -> None:
        shared = _SharedFetcher()
        a, b = FetchOptions(concurrency=4), FetchOptions(concurrency=8)
        async with shared.use(a) as first, shared.use(a) as second:
            assert first is second  # passes side by side share one client
        async with shared.use(a) as again:
            assert again is first and again._client is not None  # kept between passes
            async with shared.use(b) as newer:
                assert newer is not first
            assert first._client is not None  # retired, but its pass still runs
        assert first._client is None  # closed when its last pass ended
        await shared.close()
        assert newer._client is None

    asyncio.run(main())
