"""``reassess demo`` (``run``) and the simulated vendor site it watches (``vendorsite``,
with its templates and data in ``sitedata/``), used by the tests and the benchmark too."""
