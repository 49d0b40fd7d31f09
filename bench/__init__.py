"""The benchmark: reassess against the work, its own HTTP client and the fastest peer.

``python -m bench`` (or ``make bench``); see ``bench/README.md`` and
``docs/performance.md``. Not part of the installed application.
"""
