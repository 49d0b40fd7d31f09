"""Format readers shared by the kinds: bytes in, plain Python out (pure).

* ``detect``: which format a body is in (HTML, RSS, Atom, JSON, CSV, Markdown, text);
* ``html``: HTML as libxml2's tree, noise and chrome removed, as text lines or parts;
  bs4 only for CSS ``select`` and for bodies libxml2 cannot read;
* ``feeds``: RSS and Atom entries (lxml, feedparser for the feeds lxml declines);
* ``tables``: HTML tables and div grids as grids of cell texts;
* ``sections``: a page split into sections by heading;
* ``entries``: a page split into dated entries (changelogs, advisories, post-mortems);
* ``markdown``: Markdown and MDX as HTML, YAML front matter split off;
* ``json_records``: the records of a JSON body and their fields;
* ``encoding``: bytes as text, and the encodings an HTML body may be in;
* ``text``, ``dates``, ``urls``: normalised text, dates and links.

The parsing libraries (lxml, bs4, feedparser, markdown-it) are imported with the first
body that needs them: loading a kind costs none of them.
"""
