"""A Kubernetes API server emulator (discovery, CRUD, apply, watch, controllers) on loopback."""

from __future__ import annotations

from .emulator import KubernetesEmulator

__all__ = ["KubernetesEmulator"]
