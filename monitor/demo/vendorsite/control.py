"""Control actions (``POST /_control/{vendor}/{action}``) and random semantic changes."""

from __future__ import annotations

import contextlib
import inspect
import json
import random
import re
from collections.abc import Callable
from typing import Any

from .common import (
    DOCS,
    FAIL_MODES,
    IMPACTS,
    MAX_OVERRIDE,
    STATUSES,
    ControlError,
    _clean,
    _data,
    _now,
)
from .state import (
    Failure,
    Incident,
    Release,
    Subprocessor,
    Update,
    VendorState,
    _body,
    _code,
    _make_incident,
    _release_lines,
)


def _find_subprocessor(state: VendorState, name: str) -> Subprocessor:
    key = name.casefold()
    exact = [s for s in state.subprocessors if s.name.casefold() == key]
    near = exact or [s for s in state.subprocessors if s.name.casefold().startswith(key)]
    if len(near) != 1:
        what = "no" if not near else "more than one"
        raise ControlError(404 if not near else 400, f"{what} subprocessor named {name!r}")
    return near[0]


def _category(name: str, purpose: str) -> str:
    ai_names = {e["name"].casefold() for e in _data()["ai_pool"]}
    hint = re.search(r"\b(model|llm|inference|embedding|ai)s?\b", purpose, re.I)
    return "ai" if name.casefold() in ai_names or hint else "infra"


def act_add_subprocessor(state: VendorState, name: str, purpose: str = "Data processing",
                         location: str = "United States", category: str | None = None
                         ) -> dict[str, Any]:
    name = _clean(name, "name")
    if any(s.name.casefold() == name.casefold() for s in state.subprocessors):
        raise ControlError(409, f"subprocessor {name!r} is already listed")
    purpose, location = _clean(purpose, "purpose"), _clean(location, "location")
    if category not in (None, "ai", "infra"):
        raise ControlError(400, "category must be 'ai' or 'infra'")
    state.subprocessors.append(
        Subprocessor(name, purpose, location, category or _category(name, purpose)))
    state.touch("subprocessors")
    return {"name": name}


def act_remove_subprocessor(state: VendorState, name: str) -> dict[str, Any]:
    found = _find_subprocessor(state, _clean(name, "name"))
    state.subprocessors.remove(found)
    state.touch("subprocessors")
    return {"name": found.name}


def act_modify_subprocessor(state: VendorState, name: str, purpose: str | None = None,
                            location: str | None = None) -> dict[str, Any]:
    found = _find_subprocessor(state, _clean(name, "name"))
    if purpose is None and location is None:
        raise ControlError(400, "give purpose or location")
    found.purpose = _clean(purpose, "purpose") if purpose is not None else found.purpose
    found.location = _clean(location, "location") if location is not None else found.location
    state.touch("subprocessors")
    return {"name": found.name}


def _check_choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise ControlError(400, f"{what} must be one of {', '.join(choices)}")
    return str(value)


def act_add_incident(state: VendorState, title: str, impact: str = "minor",
                     status: str = "investigating", body: str | None = None) -> dict[str, Any]:
    title = _clean(title, "title", 500)
    impact = _check_choice(impact, IMPACTS, "impact")
    status = _check_choice(status, STATUSES, "status")
    text = _clean(body, "body", 100_000) if body is not None else _body(state.rng, status)
    number = max((i.number for i in state.incidents), default=10**7) + state.rng.randint(1, 900)
    incident = _make_incident(state, state.rng, title, impact, number,
                              [(status, text, _now())])
    state.incidents.insert(0, incident)
    state.touch("incidents")
    return {"id": incident.id, "number": number}


def _find_incident(state: VendorState, ident: Any) -> Incident:
    for incident in state.incidents:
        if ident in (incident.id, incident.number, str(incident.number)):
            return incident
    raise ControlError(404, f"no incident with id {ident!r}")


def act_update_incident(state: VendorState, id: str | int, status: str,
                        impact: str | None = None, body: str | None = None) -> dict[str, Any]:
    incident = _find_incident(state, id)
    status = _check_choice(status, STATUSES, "status")
    new_impact = _check_choice(impact, IMPACTS, "impact") if impact is not None else None
    text = _clean(body, "body", 100_000) if body is not None else _body(state.rng, status)
    incident.impact = new_impact or incident.impact
    incident.updates.append(Update(_code(state.rng), status, text, _now()))
    state.touch("incidents")
    return {"id": incident.id, "number": incident.number}


def act_add_release(state: VendorState, tag: str, body: str,
                    title: str | None = None) -> dict[str, Any]:
    tag = _clean(tag, "tag", 100)
    if any(r.tag == tag for r in state.releases):
        raise ControlError(409, f"release {tag!r} exists")
    text = _clean(body, "body", 1_000_000)
    name = _clean(title, "title", 500) if title is not None else tag
    state.releases.insert(0, Release(tag, name, text, _now().replace(microsecond=0)))
    state.touch("changelog")
    return {"tag": tag}


def act_set_model_card(state: VendorState, fields: dict[str, Any] | None = None,
                       sections: dict[str, str | None] | None = None,
                       title: str | None = None) -> dict[str, Any]:
    if not isinstance(fields or {}, dict) or not isinstance(sections or {}, dict):
        raise ControlError(400, "fields and sections must be objects")
    try:
        json.dumps(fields)
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"fields must be plain JSON values: {exc}") from None
    for key, value in (sections or {}).items():
        if value is not None:
            _clean(value, f"section {key!r}", 1_000_000)
    for key, value in (fields or {}).items():
        if value is None:
            state.card.fields.pop(key, None)
        else:
            state.card.fields[key] = value
    for key, value in (sections or {}).items():
        if value is None:
            state.card.sections.pop(key, None)
        else:
            state.card.sections[key] = value.replace("\x00", "")
    if title is not None:
        state.card.title = _clean(title, "title", 200)
    state.touch("model_card")
    return {}


def act_set_dpa(state: VendorState, retention_days: int | None = None,
                training: bool | None = None, version: str | None = None,
                clause: str | None = None) -> dict[str, Any]:
    if retention_days is not None:
        if not isinstance(retention_days, int) or not 0 <= retention_days <= 10_000:
            raise ControlError(400, "retention_days must be an integer from 0 to 10000")
        state.dpa["retention_days"] = retention_days
    if training is not None:
        state.dpa["training"] = bool(training)
    if version is not None:
        state.dpa["version"] = _clean(version, "version", 40)
    if clause is not None:
        state.dpa["clauses"].append(_clean(clause, "clause", 100_000))
    state.touch("dpa")
    return {}


def doc_name(state_slug: str, path: Any) -> str:
    """``dpa``, ``/acme/dpa`` or ``acme/dpa`` → ``dpa``; unknown documents are errors."""
    text = str(path).strip("/")
    text = text.removeprefix(f"{state_slug}/")
    if text not in DOCS:
        raise ControlError(400, f"unknown document {path!r}; one of {', '.join(DOCS)}")
    return text


def act_set_page(state: VendorState, path: str, html: str | None) -> dict[str, Any]:
    doc = doc_name(state.slug, path)
    if html is None:
        state.overrides.pop(doc, None)
    elif not isinstance(html, str) or len(html) > MAX_OVERRIDE:
        raise ControlError(400, f"html must be a string of at most {MAX_OVERRIDE} characters")
    else:
        state.overrides[doc] = html.replace("\x00", "")
    state.touch(f"page:{doc}")
    return {"path": doc}


def act_fail(state: VendorState, mode: str, path: str | None = None,
             seconds: float = 5.0) -> dict[str, Any]:
    mode = _check_choice(str(mode), FAIL_MODES, "mode")
    key = "*" if path in (None, "*") else doc_name(state.slug, path)
    if not isinstance(seconds, int | float) or not 0 <= seconds <= 120:
        raise ControlError(400, "seconds must be a number from 0 to 120")
    if mode == "ok" and key == "*":
        state.failures.clear()
    elif mode == "ok":
        state.failures.pop(key, None)
    else:
        state.failures[key] = Failure(mode, float(seconds))
    return {"path": key, "mode": mode}


ACTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "add_subprocessor": act_add_subprocessor, "remove_subprocessor": act_remove_subprocessor,
    "modify_subprocessor": act_modify_subprocessor, "add_incident": act_add_incident,
    "update_incident": act_update_incident, "add_release": act_add_release,
    "set_model_card": act_set_model_card, "set_dpa": act_set_dpa, "set_page": act_set_page,
    "fail": act_fail,
}


def apply_action(state: VendorState, action: str, params: dict[str, Any]) -> dict[str, Any]:
    fn = ACTIONS.get(action)
    if fn is None:
        raise ControlError(400, f"unknown action {action!r}; one of reset, {', '.join(ACTIONS)}")
    try:
        inspect.signature(fn).bind(state, **params)
    except TypeError as exc:
        raise ControlError(400, f"{action}: {exc}") from None
    return fn(state, **params)


# --------------------------------------------------------------------------- random changes


def _mutate_subprocessors(state: VendorState, rng: random.Random) -> str:
    d, present = _data(), {s.name.casefold() for s in state.subprocessors}
    pool = [e for e in d["ai_pool"] + d["infra_pool"] if e["name"].casefold() not in present]
    roll = rng.random()
    if pool and (roll < 0.7 or len(state.subprocessors) < 3):
        e = rng.choice(pool)
        act_add_subprocessor(state, e["name"], e["purpose"], rng.choice(d["locations"]))
        return f"added subprocessor {e['name']}"
    victim = rng.choice(state.subprocessors)
    if roll < 0.85:
        act_remove_subprocessor(state, victim.name)
        return f"removed subprocessor {victim.name}"
    where = rng.choice([x for x in d["locations"] if x != victim.location])
    act_modify_subprocessor(state, victim.name, location=where)
    return f"moved subprocessor {victim.name} to {where}"


def _mutate_incidents(state: VendorState, rng: random.Random) -> str:
    open_ = [i for i in state.incidents if i.status not in ("resolved", "postmortem")]
    if open_ and rng.random() < 0.7:
        incident = open_[0]
        nxt = STATUSES[min(STATUSES.index(incident.status) + rng.randint(1, 2), 3)]
        act_update_incident(state, incident.id, nxt)
        return f"incident {incident.id} is {nxt}"
    title = rng.choice(_data()["incident_titles"]).format(
        component=rng.choice(state.components), model=state.model())
    impact = rng.choices(IMPACTS, weights=(10, 50, 30, 10))[0]
    result = act_add_incident(state, title, impact)
    return f"new {impact} incident {result['id']}: {title}"


def _next_tag(state: VendorState, model_change: bool) -> str:
    last = state.releases[0].tag if state.releases else "v0.0.0"
    nums = [int(n) for n in re.findall(r"\d+", last)[:3]] + [0, 0, 0]
    major, minor, patch = nums[:3]
    tag = f"v{major}.{minor + 1}.0" if model_change else f"v{major}.{minor}.{patch + 1}"
    for _ in range(1000):
        if all(r.tag != tag for r in state.releases):
            break
        patch += 1
        tag = f"v{major}.{minor}.{patch + 1}"
    return tag


def _mutate_changelog(state: VendorState, rng: random.Random,
                      model_change: bool | None = None) -> str:
    change = rng.random() < 0.5 if model_change is None else model_change
    tag = _next_tag(state, change)
    if change:
        state.model_gen += 1
    lines = _release_lines(state, rng, change)
    title = f"{tag}: {state.model()}" if change else tag
    act_add_release(state, tag, "\n".join(f"- {line}" for line in lines), title)
    return f"released {title}"


def _mutate_model_card(state: VendorState, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        index = json.loads(json.dumps(state.card.fields.get("model-index", [])))
        with contextlib.suppress(LookupError, TypeError, ValueError):  # user-edited shapes
            for result in index[0]["results"]:
                metric = result["metrics"][0]
                metric["value"] = round(float(metric["value"]) + rng.uniform(-3, 3), 1)
            act_set_model_card(state, fields={"model-index": index})
            return "model card: evaluation results changed"
    if roll < 0.7:
        datasets = list(state.card.fields.get("datasets", []))
        extra = [x for x in _data()["card"]["datasets_pool"] if x not in datasets]
        datasets.append(rng.choice(extra) if extra else f"{state.slug}/customer-feedback")
        act_set_model_card(state, fields={"datasets": datasets})
        return f"model card: training dataset {datasets[-1]} added"
    text = (f"The model was further trained on conversations from {state.name} consumer "
            f"products where users did not opt out (revision {rng.randint(2, 99)}).")
    act_set_model_card(state, sections={"Training Data": text})
    return "model card: training data section rewritten"


def _mutate_dpa(state: VendorState, rng: random.Random) -> str:
    days = rng.choice([d for d in (0, 7, 14, 30, 45, 60, 90) if d != state.dpa["retention_days"]])
    act_set_dpa(state, retention_days=days)
    return f"DPA: retention now {days} days"


# --------------------------------------------------------------------------- the demo's opening


def _open_subprocessor(state: VendorState, rng: random.Random) -> str:
    present = {s.name.casefold() for s in state.subprocessors}
    pool = [e for e in _data()["ai_pool"] if e["name"].casefold() not in present]
    if not pool:
        return _mutate_subprocessors(state, rng)
    e = pool[0]
    act_add_subprocessor(state, e["name"], e["purpose"], "Canada", "ai")
    return f"added AI subprocessor {e['name']}"


def _open_incident(state: VendorState, rng: random.Random) -> str:
    title = f"Degraded response quality from {state.model()}"
    result = act_add_incident(state, title, "major")
    return f"new major incident {result['id']}: {title}"


def _open_model(state: VendorState, rng: random.Random) -> str:
    return _mutate_changelog(state, rng, model_change=True)


def _open_capability(state: VendorState, rng: random.Random) -> str:
    tag = _next_tag(state, model_change=False)
    act_add_release(state, tag, f"- Added image input to `{state.model()}`.\n"
                                "- Fixed retry handling for HTTP 429 responses.", tag)
    return f"released {tag}: image input"


def _open_training(state: VendorState, rng: random.Random) -> str:
    text = (f"{state.model()} was further trained on conversations from {state.name} "
            "customer workspaces where administrators did not opt out.")
    act_set_model_card(state, sections={"Training Data": text})
    return "model card: training data now includes customer conversations"


def _open_policy(state: VendorState, rng: random.Random) -> str:
    act_set_dpa(state, retention_days=7 if state.dpa["retention_days"] != 7 else 30)
    return f"DPA: retention now {state.dpa['retention_days']} days"


# The demo's first changes, one of each kind of trigger, so a new user sees every type
# within minutes: (index of the vendor among the site's, change). The policy page is the
# first vendor's DPA (the demo config watches that one).
DEMO_OPENING: tuple[tuple[int, Callable[[VendorState, random.Random], str]], ...] = (
    (0, _open_subprocessor), (1, _open_incident), (0, _open_model), (2, _open_capability),
    (1, _open_training), (0, _open_policy),
)
DEMO_TOPICS = ("subprocessors", "incidents", "changelog", "model_card", "dpa")


MUTATORS: dict[str, Callable[[VendorState, random.Random], str]] = {
    "subprocessors": _mutate_subprocessors, "incidents": _mutate_incidents,
    "changelog": _mutate_changelog, "model_card": _mutate_model_card, "dpa": _mutate_dpa,
}


# --------------------------------------------------------------------------- rendering
