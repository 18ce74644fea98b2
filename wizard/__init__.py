"""Shipyard: a launch spec becomes a committed, tested backend with a staging environment."""

__version__ = "0.1.0"
