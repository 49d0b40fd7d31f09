"""Write ``docs/sources.md`` from the kinds' docstrings, so the doc matches the code.

``tests/test_docs.py`` fails when the file is stale; run this script to refresh it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sources import REGISTRY  # noqa: E402

HEAD = """\
# Source kinds

A source is one URL of one *kind*. The kind decides how the body is read (parse), what
counts as a change (diff) and which re-assessment triggers a change fires (rules). This
page is generated from the kinds' own help text (`python tools/gen_sources_doc.py`);
`reassess kinds` prints the same.

## What every kind shares

- **Format detection.** HTML, RSS 1.0/2.0, Atom, JSON, CSV and Markdown/MDX (with or
  without YAML front matter) are told apart by their content, not the URL or the
  Content-Type; `format:` forces one. In MDX, components on lines of their own are
  unwrapped: a titled one (`<Accordion title="Stripe">`, `<Card title=…>`) reads as a
  named block, the tags of others (`<AccordionGroup>`, `<Note>`) are dropped, and their
  content is de-indented so that it reads as Markdown, not as code.
- **`select`** (a CSS selector) narrows an HTML body; **`ignore`** (regexes) removes
  volatile text before diffing. Both are checked when the config loads.
- **Noise is removed while parsing**: scripts, styles, hidden elements, nonces, CSRF
  tokens, tracking query strings (`utm_*` …), "last updated" and "page generated"
  lines, and order where order means nothing. A document is canonical JSON; its hash
  decides whether anything changed, so a noise-only fetch costs no diff and no row.
- **A failed fetch is never diffed**: an HTTP error, a timeout, an empty or oversized
  body is recorded on the source and retried with backoff.
- **Suspect documents**: a fetch whose page is a bot challenge, a login wall, an error or
  redirect page (by its words, `sources/vocab/suspect_pages.yaml`), that parses to
  nothing, loses more than `guard.max_shrink` of its items (default a quarter) or does
  not decode as text is held as *suspect* and alerted on, never reported as "everything
  was removed" and never made the version the next one is compared with. It is accepted
  as real only once seen unchanged over `guard.hold_checks` checks (3) and
  `guard.hold_time` (6h). `reassess diff` reports it as `"suspect": true` with its reason
  and fires nothing. If a wall outlasts its hold and becomes the current version, the
  document that comes back after it is *re-baselined* (stored, nothing fires) rather
  than diffed against the wall, which would report every item as new.
- **`confirm: N`** (default 1): a change fires only after N consecutive checks saw it.
- **`compare_versions: N`** (default 3): a return to one of the last N stored versions
  (CDN variants, A/B tests) is not a change; a genuinely new version still fires.
- **`reassess diff --kind KIND OLD NEW [--json]`** runs parse, diff and the kind's rules
  on two files, offline, through the same firing function as the daemon (the built-in
  policy, and a config's `rules:` with `--config`); `--json` prints `{"kind", "changed",
  "suspect", "reason", "changes", "triggers"}`. A suspect new document fires nothing and
  exits 0.

## How a source is fetched

A source is one GET of its `url` unless it says otherwise (these keys sit beside `url:`):

- **PDF bodies.** A body that is a PDF (it starts with `%PDF-`, whatever the
  Content-Type) is read by the `page` and `model_card` kinds as its text, page by page
  (pypdf; at most 300 pages and 2,000,000 characters, within `parse.timeout`): headings,
  paragraphs and `Label: value` lines as in any other document. A system card or DPA
  published as PDF is diffed like a web page; the snapshot keeps the PDF itself.
- **`hub: org/model`** (kind `model_card`; `hub_url:`, default `https://huggingface.co`,
  for a mirror or a stand-in): the card is read at the Hugging Face repository's latest
  commit, `GET {hub_url}/api/models/{repo}` (its `sha` and `lastModified`), then
  `{hub_url}/{repo}/resolve/{sha}/README.md`. The snapshot records the commit id (its
  `etag`), the commit date (`last_modified`) and the card's URL at that commit; a check
  that finds the commit it has already seen reads nothing more (not modified); each
  trigger's evidence names it too (`"hub": {"repo", "commit", "committed_at"}`). `url:`
  is the repository's page, shown in messages. A gated repository takes
  `headers: {Authorization: "Bearer ${HF_TOKEN}"}`.
- **`render: browser`** with **`wait_for: "CSS selector"`** (optional): the page is
  rendered by headless Chromium (`pip install 'reassess[browser]'`; the system's
  `/usr/bin/chromium` where present, `$REASSESS_CHROMIUM` for another) and its HTML once
  the scripts ran goes to the kind. The render waits for `wait_for` (not found within
  the source's `timeout`: a failed fetch) or else for the network to go idle, within the
  `timeout`; images, fonts and media are never requested, every request of the page
  passes the address guard, the source's headers go to its own origin only, and the
  render holds one of its host's `http.per_host` slots.
- **`kind: mailbox`** with `url: imap://user@host/FOLDER` and **`password: ${VAR}`**
  (never in the URL): the folder is polled over IMAP (TLS by default; `tls: starttls` or
  `tls: false`); see the `mailbox` kind below.

Every change fires through the rules engine afterwards: configured `rules:` may raise or
lower severity, suppress or route (see [assessments.md](assessments.md)).

## Vocabularies

The words reassess knows are data, shipped as YAML in `sources/vocab/`, not code:

| vocabulary | shape | what it is for |
|---|---|---|
| `model_families` | list of names | a model named without digits ("Sonnet is now the default") |
| `capabilities` | tag → phrases | a new capability; its entity is the phrase as written |
| `legal_suffixes` | list of words | names keyed without their legal form ("Acme, Inc." = "Acme") |
| `header_words` | role → words | which column holds `name`, `purpose`, `location` (or `skip`) |
| `countries` | name → `{code, aliases}` | locations; an entry without a code is a region (EU) |
| `card_fields` | field → labels | which fact a model card's table row or `Label:` line states |
| `policy_terms` | group → phrases | what a changed policy sentence is about (training, rights …) |
| `page_noise` | labels, stamps, spelling | what a page adds that is not content |
| `suspect_pages` | class → `{lines, words}` | what a bot wall, login wall or error page says |

The config adds to each under a top-level `vocabulary:` key; lists are extended and
mappings merged key by key:

```yaml
vocabulary:
  model_families: [Fable, Aurora]
  capabilities: {audio: [voice cloning]}
  legal_suffixes: [zrt]
  header_words: {name: [Auftragsverarbeiter]}
  countries: {Taiwan: {code: TW, aliases: [ROC]}}
```

Additions change what a parse makes, so they count as another parser version: the next
check reads each stored body again with them (a re-baseline) and fires nothing for the
vocabulary change itself.

## Where the code is

A kind is one package, `sources/<kind>/`: its `__init__.py` holds the contract (`Settings`,
`parse`, `diff`, `size`, `describe`, the default interval and the name of its rule) and
the docstring below; the helpers only it uses sit beside it. The format readers the kinds
share (HTML, feeds, tables, sections, dated entries, Markdown, JSON, dates, URLs, format
detection) are `sources/read/`. A kind reports what changed; its rule in `triggers/`
judges what the change means.
"""


def render() -> str:
    parts = [HEAD]
    for name, module in sorted(REGISTRY.items()):
        doc = (module.__doc__ or "").strip()
        title, _, body = doc.partition("\n")
        facts = (f"Code: `sources/{name}/`; rule: `{module.RULES}`; checked every "
                 f"{_interval(module.INTERVAL)} by default (`interval:` on the source, its "
                 "vendor or `schedule:` overrides it).")
        parts.append(f"\n## `{name}`\n\n{title.split('—', 1)[-1].strip()}\n\n"
                     f"{facts}\n\n{_rst_to_md(body.strip())}\n")
    return "".join(parts)


def _interval(seconds: float) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}s" if count != 1 else unit
    return f"{seconds:g} seconds"


def _rst_to_md(text: str) -> str:
    out: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-2].rstrip() + ":")
            out.append("\n```yaml")
            in_code = True
            continue
        if in_code and not line.strip() and out[-1] == "\n```yaml":
            continue
        if in_code and line.strip() and not line.startswith(" "):
            out.append("```\n")
            in_code = False
        out.append(line[4:] if in_code else line.replace("``", "`"))
    if in_code:
        out.append("```")
    return "\n".join(out).strip()


def main() -> None:
    target = ROOT / "docs" / "sources.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
