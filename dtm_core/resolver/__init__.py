"""Dependency resolution: turns tool requests into one consistent set of tool versions."""

from __future__ import annotations

from dtm_core.resolver.resolve import REQUEST, Resolution, resolve

__all__ = ["REQUEST", "Resolution", "resolve"]
