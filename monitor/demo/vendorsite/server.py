"""The :class:`VendorSite`: vendors' state, the control API and the aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import random
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from .common import (
    DEMO_VENDORS,
    DOCS,
    MAX_MUTATIONS,
    MAX_OVERRIDE,
    REPLAY_AT,
    SLUG_RE,
    ControlError,
    _now,
    log,
)
from .control import DEMO_OPENING, DEMO_TOPICS, MUTATORS, _mutate_changelog, apply_action, doc_name
from .render import Rendered, _BodyCache, render
from .responses import _failure_response, _json, _not_modified, _ok_response
from .state import VendorState, build_vendor, vendor_name


class VendorSite:
    """The simulated vendor site: vendors' state, the control API and the HTTP server.

    ``start()`` serves on a background thread with its own event loop; ``control()``,
    ``stats()`` and friends are thread-safe and work whether or not it is serving.
    """

    def __init__(self, vendors: Iterable[str] = DEMO_VENDORS, *, seed: int = 0,
                 demo_every: float | None = None, demo_opening: bool = False,
                 on_demo_step: Callable[[int, datetime, str], None] | None = None,
                 cache_bytes: int = 1024 * 1024 * 1024) -> None:
        self.vendors: list[str] = list(dict.fromkeys(vendors))
        bad = [v for v in self.vendors if not SLUG_RE.match(v) or v.startswith("_")]
        if bad or not self.vendors:
            raise ValueError(f"vendor slugs must match {SLUG_RE.pattern}: {bad or 'none given'}")
        self._known = set(self.vendors)
        self._states: dict[str, VendorState] = {}
        self._lock = threading.RLock()
        self._cache = _BodyCache(cache_bytes)
        self._counts: dict[str, int] = {}
        self._total = 0
        self._rng = random.Random(seed)
        self.base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.demo_every = demo_every
        self.demo_opening = demo_opening  # the first steps: one change of each trigger type
        self.on_demo_step = on_demo_step  # told of every step (the demo's journal)
        self.demo_steps = 0
        self._demo: asyncio.Task[None] | None = None

    @classmethod
    def generated(cls, n_vendors: int, **kwargs: Any) -> VendorSite:
        """A site of ``n_vendors`` generated vendors ``v0001`` … ``vNNNN``."""
        if not 1 <= n_vendors <= 99_999:
            raise ValueError("n_vendors must be from 1 to 99999")
        width = max(4, len(str(n_vendors)))
        return cls([f"v{i:0{width}d}" for i in range(1, n_vendors + 1)], **kwargs)

    # ---- state and documents

    def paths(self, vendor: str) -> list[str]:
        """The URL paths a vendor serves, e.g. ``/acme/subprocessors``."""
        return [f"/{vendor}/{doc}" for doc in DOCS]

    def url(self, vendor: str, doc: str) -> str:
        if self.base_url is None:
            raise RuntimeError("the site is not started")
        return f"{self.base_url}/{vendor}/{doc_name(vendor, doc)}"

    def _state(self, vendor: str) -> VendorState:
        state = self._states.get(vendor)
        if state is None:
            if vendor not in self._known:
                raise ControlError(404, f"unknown vendor {vendor!r}")
            state = self._states[vendor] = build_vendor(vendor)
        return state

    def _rendered(self, state: VendorState, doc: str) -> Rendered:
        key, stamp = (state.slug, doc), state.doc_stamp(doc)
        found = self._cache.get(key, stamp)
        if found is None:
            found = render(state, doc)
            self._cache.put(key, found)
        return found

    def document(self, vendor: str, doc: str) -> bytes:
        """One document's body as served (with fresh noise), without HTTP."""
        with self._lock:
            state = self._state(vendor)
            return self._rendered(state, doc_name(vendor, doc)).body()[0]

    def warm(self, vendors: Iterable[str] | None = None) -> int:
        """Render every document now (so the first timed pass hits the cache)."""
        count = 0
        for vendor in vendors or self.vendors:
            with self._lock:
                state = self._state(vendor)
                for doc in DOCS:
                    self._rendered(state, doc)
                    count += 1
                state.memo = None
        return count

    # ---- control

    def control(self, vendor: str, action: str, **params: Any) -> dict[str, Any]:
        """Apply one action (see ``ACTIONS`` and ``reset``); raises ``ControlError``."""
        with self._lock:
            if action == "reset":
                return self._reset(vendor)
            state = self._state(vendor)
            result = apply_action(state, action, params)
            return {"ok": True, "vendor": vendor, "action": action,
                    "changed": self._drain(state), **result}

    def _reset(self, vendor: str) -> dict[str, Any]:
        old = self._state(vendor)
        fresh = build_vendor(vendor)
        for key, at in old.mtimes.items():  # Last-Modified never goes back after a change
            if at != fresh.mtimes.get(key, at) or key.startswith("page:"):
                fresh.mtimes[key] = max(at, fresh.mtimes.get(key, at)) + timedelta(seconds=1)
        self._states[vendor] = fresh
        return {"ok": True, "vendor": vendor, "action": "reset", "changed": self.paths(vendor)}

    def _drain(self, state: VendorState) -> list[str]:
        docs = [d for d, spec in DOCS.items()
                if spec.topic in state.pending or f"page:{d}" in state.pending]
        state.pending.clear()
        return [f"/{state.slug}/{d}" for d in docs]

    def mutate_random(self, count: int, *, paths: Iterable[str] | None = None,
                      seed: int | None = None) -> dict[str, Any]:
        """Change ``count`` random documents semantically (among ``paths`` if given).

        Documents that show the same state change together (``subprocessors`` and
        ``subprocessors.md``), so ``changed`` lists every path whose content changed.
        """
        if not isinstance(count, int) or not 0 <= count <= MAX_MUTATIONS:
            raise ControlError(400, f"count must be an integer from 0 to {MAX_MUTATIONS}")
        rng = random.Random(seed) if seed is not None else self._rng
        with self._lock:
            pool = self._candidates(paths) if paths is not None else None
            size = len(pool) if pool is not None else len(self.vendors) * len(DOCS)
            targets: dict[tuple[str, str], str] = {}
            for n in rng.sample(range(size), min(count, size)):
                vendor, doc = pool[n] if pool is not None else self._nth(n)
                targets.setdefault((vendor, DOCS[doc].topic), doc)
            changes, changed = [], []
            for (vendor, topic), doc in sorted(targets.items()):
                state = self._state(vendor)
                changes.append({"vendor": vendor, "topic": topic, "path": f"/{vendor}/{doc}",
                                "description": MUTATORS[topic](state, state.rng)})
                changed += self._drain(state)
        return {"ok": True, "changed": changed, "changes": changes}

    def _nth(self, n: int) -> tuple[str, str]:
        return self.vendors[n // len(DOCS)], list(DOCS)[n % len(DOCS)]

    def _candidates(self, paths: Iterable[str]) -> list[tuple[str, str]]:
        out = []
        for path in paths:
            vendor, _, doc = str(path).strip("/").partition("/")
            if vendor not in self._known:
                raise ControlError(400, f"unknown vendor in path {path!r}")
            out.append((vendor, doc_name(vendor, doc)))
        return out

    def demo_step(self) -> str:
        """One random semantic change of a demo kind; returns what happened.

        With ``demo_opening``, the first steps are ``DEMO_OPENING``: one change for each
        type of trigger, the first vendor's DPA among them. The step reads the clock once
        (every date it writes is that moment), so a replay at the same moment makes the
        same documents.
        """
        with self._lock:
            at = _now()
            REPLAY_AT.append(at)
            try:
                vendor, text = self._step()
            finally:
                REPLAY_AT.pop()
        if self.on_demo_step is not None:
            self.on_demo_step(self.demo_steps - 1, at, f"{vendor}: {text}")
        return f"{vendor}: {text}"

    def _step(self) -> tuple[str, str]:
        step = self.demo_steps
        self.demo_steps += 1
        if self.demo_opening and step < len(DEMO_OPENING):
            index, change = DEMO_OPENING[step]
            vendor = self.vendors[index % len(self.vendors)]
            state = self._state(vendor)
            text = change(state, state.rng)
        else:
            vendor = self._rng.choice(self.vendors)
            topic = self._rng.choice(DEMO_TOPICS if self.demo_opening else DEMO_TOPICS[:4])
            if topic == "dpa":  # the demo watches the first vendor's DPA only
                vendor = self.vendors[0]
            state = self._state(vendor)
            if topic == "changelog":
                text = _mutate_changelog(state, state.rng, model_change=True)
            else:
                text = MUTATORS[topic](state, state.rng)
        self._drain(state)
        return vendor, text

    def replay(self, times: Iterable[datetime]) -> int:
        """Make again, in order, the demo steps made at ``times`` (a journal of an earlier
        run): the same changes with the same dates, so a restarted demo serves what the
        daemon last saw instead of starting over. Returns how many."""
        done = 0
        self.warm()  # content made on first use is made from the initial state, as it was
        callback, self.on_demo_step = self.on_demo_step, None
        try:
            for at in times:
                with self._lock:
                    REPLAY_AT.append(at)
                    try:
                        self.demo_step()
                    finally:
                        REPLAY_AT.pop()
                done += 1
        finally:
            self.on_demo_step = callback
        return done

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self._counts), "total": self._total}

    def reset_stats(self) -> None:
        with self._lock:
            self._counts.clear()
            self._total = 0

    def describe(self) -> dict[str, Any]:
        """Vendors, their names and paths, and each document's kind and media type."""
        return {"vendors": [{"slug": v, "name": vendor_name(v), "paths": self.paths(v)}
                            for v in self.vendors],
                "documents": {d: {"kind": s.kind, "content_type": s.content_type}
                              for d, s in DOCS.items()}}

    # ---- HTTP

    def app(self) -> web.Application:
        """The aiohttp application (control routes first: ``_`` is no vendor slug)."""
        app = web.Application(client_max_size=2 * MAX_OVERRIDE)
        app.router.add_get("/", self._h_index)
        app.router.add_get("/_control/stats", self._h_stats)
        app.router.add_post("/_control/stats/reset", self._h_stats_reset)
        app.router.add_get("/_control/vendors", self._h_vendors)
        app.router.add_post("/_control/mutate_random", self._h_mutate)
        app.router.add_post("/_control/{vendor}/{action}", self._h_control)
        app.router.add_get("/{vendor}/{doc:.+}", self._h_doc)
        app.router.add_get("/{tail:.*}", self._h_unknown)
        return app

    def _count(self, path: str) -> None:
        self._counts[path] = self._counts.get(path, 0) + 1
        self._total += 1

    async def _h_doc(self, request: web.Request) -> web.StreamResponse:
        vendor, doc = request.match_info["vendor"], request.match_info["doc"]
        spec = DOCS.get(doc)
        with self._lock:
            self._count(request.path)
            if spec is None or vendor not in self._known:
                return web.Response(status=404, text="404: Not Found")
            state = self._state(vendor)
            failure = state.failures.get(doc) or state.failures.get("*")
            rendered = None if failure and failure.mode != "slow" else self._rendered(state, doc)
        if failure is not None and failure.mode == "slow":
            await self._sleep(failure.seconds)
        elif failure is not None:
            return _failure_response(failure.mode, spec.content_type, state.domain)
        assert rendered is not None
        if _not_modified(request.headers, rendered):
            return web.Response(status=304, headers={
                "ETag": rendered.etag, "Last-Modified": rendered.last_modified})
        return _ok_response(rendered)

    async def _sleep(self, seconds: float) -> None:
        if self._stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _h_unknown(self, request: web.Request) -> web.Response:
        with self._lock:
            self._count(request.path)
        return web.Response(status=404, text="404: Not Found")

    async def _h_index(self, request: web.Request) -> web.Response:
        items = "".join(
            f'<li>{html.escape(v)}: ' + " ".join(f'<a href="{p}">{p.split("/", 2)[2]}</a>'
                                                 for p in self.paths(v)) + "</li>"
            for v in self.vendors[:200])
        return web.Response(text=f"<!DOCTYPE html><title>vendorsite</title><h1>Simulated "
                                 f"vendors</h1><ul>{items}</ul>", content_type="text/html")

    async def _h_stats(self, request: web.Request) -> web.Response:
        return _json(self.stats())

    async def _h_stats_reset(self, request: web.Request) -> web.Response:
        self.reset_stats()
        return _json({"ok": True})

    async def _h_vendors(self, request: web.Request) -> web.Response:
        return _json(self.describe())

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            params = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ControlError(400, f"body is not JSON: {exc}") from None
        if not isinstance(params, dict):
            raise ControlError(400, "body must be a JSON object")
        return params

    async def _h_control(self, request: web.Request) -> web.Response:
        try:
            params = await self._params(request)
            vendor, action = request.match_info["vendor"], request.match_info["action"]
            return _json(self.control(vendor, action, **params))
        except ControlError as exc:
            return _json({"ok": False, "error": str(exc)}, exc.status)

    async def _h_mutate(self, request: web.Request) -> web.Response:
        try:
            params = await self._params(request)
            extra = set(params) - {"count", "paths", "seed"}
            if extra:
                raise ControlError(400, f"unknown parameters: {', '.join(sorted(extra))}")
            return _json(self.mutate_random(params.get("count", 1), paths=params.get("paths"),
                                            seed=params.get("seed")))
        except ControlError as exc:
            return _json({"ok": False, "error": str(exc)}, exc.status)

    # ---- serving

    async def open(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on the running event loop; returns the base URL."""
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0,
                               handler_cancellation=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, backlog=2048, reuse_address=True).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0]
        self.base_url = f"http://{host}:{bound[1]}"
        if self.demo_every:
            self._demo = asyncio.create_task(self._demo_loop(self.demo_every))
        return self.base_url

    async def _demo_loop(self, every: float) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=max(every, 0.05))
            if not self._stopping.is_set():
                log.info("%s", self.demo_step())

    async def close(self) -> None:
        """Stop serving: slow responses end now, open connections are closed."""
        if self._stopping is not None:
            self._stopping.set()
        if self._demo is not None:
            await self._demo
            self._demo = None
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner, self.base_url = None, None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a background thread with its own event loop; returns the base URL."""
        if self._thread is not None:
            raise RuntimeError("the site is already started")
        loop = asyncio.new_event_loop()
        box: dict[str, Any] = {}
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                box["url"] = loop.run_until_complete(self.open(host, port))
            except BaseException as exc:
                box["error"] = exc
            ready.set()
            if "url" in box:
                loop.run_forever()
                loop.run_until_complete(self.close())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="vendorsite", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if "url" not in box:
            self._thread.join(timeout=10)
            self._thread = self._loop = None
            raise RuntimeError(f"vendorsite did not start: {box.get('error')!r}")
        return str(box["url"])

    def stop(self) -> None:
        """Stop the background server started by :meth:`start` (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if self._stopping is not None:
            loop.call_soon_threadsafe(self._stopping.set)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._thread = self._loop = None

    def __enter__(self) -> VendorSite:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- CLI
