"""Fixtures for the toolchain loader tests: the data folder and loaders of inline YAML."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from dtm_core.declarative.config import load_toolchain_texts
from dtm_core.declarative.model import Toolchain
from dtm_core.errors import ConfigError

DATA = Path(__file__).parent / "data"
#: Labels given to inline texts, in order, as if they were files of one directory.
LABELS = ("toolchain.yaml", "second.yaml", "third.yaml")

LoadYaml = Callable[..., Toolchain]
LoadError = Callable[..., ConfigError]


def _load(texts: tuple[str, ...], environ: Mapping[str, str] | None) -> Toolchain:
    return load_toolchain_texts(list(zip(LABELS, texts, strict=False)), environ=environ or {})


@pytest.fixture
def load_yaml() -> LoadYaml:
    """``load_yaml(text, *more, environ=…)``: load texts labelled toolchain.yaml, second.yaml …"""
    def load(*texts: str, environ: Mapping[str, str] | None = None) -> Toolchain:
        return _load(texts, environ)
    return load


@pytest.fixture
def load_error() -> LoadError:
    """``load_error(text, *more, environ=…)``: the ConfigError loading the texts raises."""
    def load(*texts: str, environ: Mapping[str, str] | None = None) -> ConfigError:
        with pytest.raises(ConfigError) as caught:
            _load(texts, environ)
        assert caught.value.exit_code == 2
        return caught.value
    return load
