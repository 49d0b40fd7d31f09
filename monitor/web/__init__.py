"""The web UI and JSON API (served by ``reassess run`` and ``reassess serve``)."""
