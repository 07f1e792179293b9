"""The configuration pages' blueprint, with every page module of `manager.config` imported so
that their routes are on it."""

from __future__ import annotations

import manager.config.counters
import manager.config.devices
import manager.config.fields
import manager.config.overview
import manager.config.printers
import manager.config.priority
import manager.config.remote
import manager.config.settings
import manager.config.users  # noqa: F401  each adds its routes to the blueprint
from manager.config.base import bp

__all__ = ["bp"]
