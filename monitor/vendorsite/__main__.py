"""``python -m monitor.vendorsite``."""

from .cli import main

raise SystemExit(main())
