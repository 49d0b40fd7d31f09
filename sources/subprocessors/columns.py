"""Which column of an entity table holds what: header roles, headerless tables (pure).

A table (a grid of cell texts, see ``read.tables``; a CSV; the keys of JSON objects) becomes
*records*: one dict per row, keyed ``name``, ``purpose``, ``location`` (found from the
headers, whatever their wording) and a slug per other column. A table without headers is
read by its values (the column of countries is the location, the first other column the
name). Cookie tables and change logs are not entity tables and give no records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..read.tables import norm_header
from .places import places_in

ROLES = ("name", "purpose", "location")

_SKIP = re.compile(r"^(#|no|nr|num|number|s ?no|sr ?no|sl ?no|id|index|rank|logo|icon|flag)$|"
                   r"\b(date|dated|updated|added|effective|since|modified|as of|reviewed)\b")
_COOKIE = re.compile(r"\b(cookies?|expir\w*|duration|lifespan|retention period)\b")
_NAME_WORD = (r"(sub ?processors?|processors?|vendors?|providers?|suppliers?|"
              r"sub ?contractors?|contractors?|partners?|entity|entities|company|companies|"
              r"organi[sz]ations?|part(y|ies)|recipients?|affiliates?|tools?|firms?|"
              r"dienstleister|unterauftragsverarbeiter|anbieter|sous traitants?|prestataires?|"
              r"fournisseurs?|subencargados?|proveedores?|empresa|soci[eé]t[eé]|unternehmen)")
_STRONG_NAME = re.compile(r"\b(sub ?processors?|processors?|vendors?|providers?|suppliers?|"
                          r"sub ?contractors?|third part(y|ies)|entity|entities)\b")
_LOCATION = re.compile(r"\b(locations?|countr(y|ies)|regions?|jurisdictions?|territor(y|ies)|"
                       r"where|headquarters?|hq|address(es)?|geograph\w*|data (center|centre)s?|"
                       r"located|cit(y|ies)|based|place|residency|standort|ort|land|sitz|"
                       r"localisation|pays|lieu|ubicaci[oó]n|pa[ií]s|sede)\b")
_CORPORATE = re.compile(r"\b(corporate|headquarters?|hq|registered|incorporat\w*|legal|entity|"
                        r"company|office|address(es)?|domicile)\b")
_PROCESSING = re.compile(r"\b(processing|processed|data|hosting|hosted|stored?|storage|"
                         r"servers?|where)\b")
_NOT_PURPOSE = re.compile(r"(categor\w* of (personal )?data|data categor\w*|types? of (personal )?"
                          r"data|data (types?|subjects?|processed|elements)|personal data|"
                          r"applicable|products?|plans?|transfer|mechanism|safeguards?|website|"
                          r"urls?|links?|contact|certif\w*|dpa|privacy polic\w*|changes?|updates?|"
                          r"action)")
_PURPOSE_STRONG = re.compile(r"\b(purposes?|zweck|finalit[eé]s?|finalidad|prop[oó]sito)\b")
_PURPOSE = re.compile(r"\b(nature|activit(y|ies)|functions?|descriptions?|described|"
                      r"services? (provided|performed|offered|rendered)|services?|"
                      r"leistung\w*|t[aä]tigkeit\w*|servicios?|prestations?)\b")
_PURPOSE_WEAK = re.compile(r"\b(processing|role|scope|usage|use|used|uses|categor(y|ies)|type|"
                           r"details|reason|why|what)\b")


def slug(text: str) -> str:
    return re.sub(r"\s+", "_", norm_header(text)) or "column"


def role_scores(header: str) -> dict[str, int]:
    """How strongly a normalised header names each role (``skip``: a column to drop)."""
    h = header
    if not h:
        return {}
    if _SKIP.search(h):
        return {"skip": 9}
    out: dict[str, int] = {}
    if re.search(r"\b(names?|nom|nombre)\b", h):
        out["name"] = 7
    elif re.search(rf"\b{_NAME_WORD}$", h):
        out["name"] = 6
    elif re.search(rf"\b{_NAME_WORD}\b", h):
        out["name"] = 3
    if _LOCATION.search(h):
        out["location"] = 3 if _CORPORATE.search(h) else 7 if _PROCESSING.search(h) else 6
    if not _NOT_PURPOSE.search(h):
        if _PURPOSE_STRONG.search(h):
            out["purpose"] = 7
        elif _PURPOSE.search(h):
            out["purpose"] = 5
        elif _PURPOSE_WEAK.search(h):
            out["purpose"] = 2
    return out


def _override(header: str, wanted: str | None) -> bool:
    if not wanted:
        return False
    want = norm_header(wanted)
    return bool(want) and (header == want or want in header)


def header_columns(headers: Sequence[str], overrides: Mapping[str, str | None] | None = None,
                   ) -> dict[int, str] | None:
    """Field key per column (``name``/``purpose``/``location``/slug), ``None`` if no entities.

    Each role goes to the column that names it most strongly; a table with no name header
    takes its first free column as the name. Cookie tables and tables whose headers name
    no role are not entity tables.
    """
    norm = [norm_header(h) for h in headers]
    if any(_COOKIE.search(h) for h in norm):
        return None
    candidates: list[tuple[int, int, int, str]] = []
    skipped: set[int] = set()
    for i, h in enumerate(norm):
        scores = role_scores(h)
        for role in ROLES:
            if _override(h, (overrides or {}).get(f"{role}_column")):
                scores[role] = 100
        if scores.get("skip") and not any(scores.get(r, 0) >= 100 for r in ROLES):
            skipped.add(i)
            continue
        for role, score in scores.items():
            if role in ROLES:
                candidates.append((-score, ROLES.index(role) * -1, i, role))
    assigned: dict[str, tuple[int, int]] = {}
    used: set[int] = set()
    for neg, _, i, role in sorted(candidates):
        if role not in assigned and i not in used:
            assigned[role] = (i, -neg)
            used.add(i)
    if not _qualifies(assigned, norm, len(headers)):
        return None
    if any(re.search(r"\bdate\b", h) for h in norm) and not (
            {"purpose", "location"} & assigned.keys()):
        return None  # a change log: "Date | Subprocessor | Change"
    if "name" not in assigned:
        free = [i for i in range(len(headers)) if i not in used and i not in skipped
                and not _NOT_PURPOSE.search(norm[i]) and "data" not in norm[i].split()]
        if not free:
            return None
        assigned["name"] = (free[0], 0)
        used.add(free[0])
    columns = {i: role for role, (i, _) in assigned.items()}
    for i, h in enumerate(headers):
        if i not in columns and i not in skipped and norm[i]:
            columns[i] = slug(h)
    return columns


def _qualifies(assigned: Mapping[str, tuple[int, int]], norm: Sequence[str], ncols: int) -> bool:
    score = {role: s for role, (_, s) in assigned.items()}
    if "name" in score and ("purpose" in score or "location" in score):
        return True
    if score.get("name", 0) >= 6 and _STRONG_NAME.search(norm[assigned["name"][0]]):
        return True
    if "location" in score and "purpose" in score:
        return True
    return (score.get("location", 0) >= 6 or score.get("purpose", 0) >= 5) and ncols <= 4


def looks_like_header(cells: Sequence[str]) -> bool:
    """A first row of plain cells that reads like column headers, not like an entity."""
    filled = [c for c in cells if c.strip()]
    if len(filled) < 2 or any(len(c.split()) > 6 or re.search(r"\d", c) for c in filled):
        return False
    scores = [role_scores(norm_header(c)) for c in filled]
    if not all(scores):
        return False
    return any(max(s.values()) >= 5 for s in scores) or len(filled) >= 3


def is_location(value: str) -> bool:
    """A value that is mostly place names: "Germany (Frankfurt)", "US, EU", "Global"."""
    if len(value.split()) > 8:
        return False
    found = places_in(value, codes=True)
    if not found:
        return False
    rest = re.sub(r"[^\w\s]", " ", value)
    for word in ("and", "the", "of", *(w for p in found for w in p.split())):
        rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest, flags=re.I)
    rest = re.sub(r"\b(US|UK|EU|EEA|UAE|USA|[A-Z]{2})\b", " ", rest)
    return len(rest.split()) <= 2


_NUMERIC = re.compile(r"^[\d\s.,#()/-]*$")


def value_columns(rows: Sequence[Sequence[str]]) -> tuple[dict[int, str], bool] | None:
    """Roles of a headerless table from its values, and whether a location column was found."""
    ncols = max((len(r) for r in rows), default=0)
    if ncols < 2 or len(rows) < 2:
        return None
    location, skipped = None, set()
    for i in range(ncols):
        values = [r[i] for r in rows if i < len(r) and r[i]]
        if not values or all(_NUMERIC.match(v) for v in values):
            skipped.add(i)
            continue
        placed = sum(1 for v in values if is_location(v))
        if location is None and placed >= 0.6 * len(values):
            location = i
    free = [i for i in range(ncols) if i not in skipped and i != location]
    if not free:
        return None
    names = [r[free[0]] for r in rows if free[0] < len(r) and r[free[0]]]
    if not names or sum(len(n.split()) for n in names) / len(names) > 8:
        return None
    columns = {free[0]: "name"}
    if len(free) > 1:
        columns[free[1]] = "purpose"
    if location is not None:
        columns[location] = "location"
    for i in free[2:]:
        columns[i] = f"column_{i + 1}"
    return columns, location is not None


def records(header: Sequence[str] | None, rows: Sequence[Sequence[str]],
            overrides: Mapping[str, str | None] | None = None,
            ) -> tuple[list[dict[str, str]], bool]:
    """One record per row (``{}`` for an empty row), and whether the table was recognised
    with confidence (by its headers, or a headerless table with a column of countries)."""
    columns: dict[int, str] | None
    confident = True
    if header is not None:
        columns = header_columns(header, overrides)
    else:
        found = value_columns(rows)
        columns, confident = found if found else (None, False)
    if not columns:
        return [], False
    return [{key: row[i] for i, key in columns.items() if i < len(row) and row[i]}
            for row in rows], confident
