"""``python -m monitor.demo.vendorsite``."""

from .cli import main

raise SystemExit(main())
