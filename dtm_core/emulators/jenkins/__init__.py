"""A Jenkins remote-API emulator (items, config.xml, builds and queue, Basic auth and crumbs) on loopback."""

from __future__ import annotations

from .emulator import JenkinsEmulator

__all__ = ["JenkinsEmulator"]
