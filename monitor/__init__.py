"""The daemon and the user's doors: CLI, scheduler, notifier, web UI."""
