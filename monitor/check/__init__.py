"""The check: schedule → fetch → parse → diff → fire → persist, for ``reassess check``
and the daemon (``pipeline.Checker``), with its parse workers (``parsing``)."""
