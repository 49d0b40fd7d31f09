"""The simulated vendor site's old import path: it lives in ``monitor.demo.vendorsite``.

Kept only for ``tests/site_docs.py``, which the sources side owns and still imports
``monitor.vendorsite``; delete this module when that line names the new path.
"""

from monitor.demo.vendorsite import DOCS, VendorSite

__all__ = ["DOCS", "VendorSite"]
