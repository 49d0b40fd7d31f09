"""``python -m monitor.vendorsite``."""

from . import main

raise SystemExit(main())
