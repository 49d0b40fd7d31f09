"""Configuration: the schema, the loader, and example files (``example.yaml``, ``demo.yaml``)."""

from pathlib import Path

from .errors import ConfigError, ReassessError
from .loader import load_config, parse_config
from .schema import Config, SourceConfig, VendorConfig

CONFIG_DIR = Path(__file__).resolve().parent

__all__ = ["CONFIG_DIR", "Config", "ConfigError", "ReassessError", "SourceConfig",
           "VendorConfig", "load_config", "parse_config"]
