"""A GitHub REST API emulator (repositories, contents, Git Data, Actions secrets, webhooks) on loopback."""

from __future__ import annotations

from .dispatch import Exchange
from .emulator import GitHubEmulator

__all__ = ["Exchange", "GitHubEmulator"]
