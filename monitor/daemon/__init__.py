"""``reassess run``: the scheduler (``daemon``), jobs done once across daemons (``jobs``),
``review_due`` (``lifecycle``) and operations: metrics, health, retention (``ops``)."""
