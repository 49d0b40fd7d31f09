"""Channel URLs are checked with apprise itself when the configuration loads.

An error names the file, the line, the channel and the URL's position, and says what is
wrong without ever repeating the URL: it may hold a token or a password.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ConfigError
from .schema import Config

_RETIRED = {"msteams": "Microsoft retired Office 365 connectors and apprise dropped msteams://; "
                       "use a Teams workflow URL, workflows://… (see docs/notifications.md)"}
_SCHEMAS: set[str] = set()


def load_apprise() -> None:
    """Load apprise's plugins once, quietly: one of them imports the deprecated ``imghdr``,
    whose warning is noise to our users (and an error under pytest)."""
    if _SCHEMAS:
        return
    import warnings

    from apprise.manager_plugins import NotificationManager

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        manager = NotificationManager()
        manager.load_modules()
        _SCHEMAS.update(manager.schemas())
    _SCHEMAS.update({"http", "https"})  # native webhook URLs (hooks.slack.com …)


def scheme(url: str) -> str:
    match = re.match(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return match.group(1).lower() if match else ""


def _known(name: str) -> bool:
    load_apprise()
    return name in _SCHEMAS


def why_invalid(url: str) -> str:
    """Why apprise refuses a URL, in words that never repeat the URL."""
    name = scheme(url)
    if not name:
        return "not a URL; expected scheme://… such as slack://, mailto:// or json://"
    if name in _RETIRED:
        return _RETIRED[name]
    if not _known(name):
        return f"{name}:// is not a notification service apprise knows"
    return (f"apprise cannot read this {name}:// URL (a token, host or address is missing "
            "or malformed)")


def valid(url: str) -> bool:
    import apprise

    load_apprise()
    asset = apprise.AppriseAsset(storage_mode="memory")
    return apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True) is not None


def check_channel_urls(config: Config, line_of: Any, file: str) -> None:
    """Raise ``ConfigError`` for the first URL apprise cannot use."""
    for name, channel in config.channels.items():
        if not channel.urls:
            line = line_of(("channels", name, "urls"))
            raise ConfigError(f"{file}:{line}: channels.{name}.urls: no URL; give at least one "
                              "apprise URL", path=file, line=line)
        for i, url in enumerate(channel.urls):
            if not valid(url):
                line = line_of(("channels", name, "urls", i))
                raise ConfigError(f"{file}:{line}: channels.{name}.urls[{i}]: "
                                  f"{why_invalid(url)}", path=file, line=line)
