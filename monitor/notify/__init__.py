"""Notifications: who hears of what (``routing``), the outbox's delivery (``notifier``),
the messages (``messages``, ``payload``) and the apprise edge (``channels``)."""
