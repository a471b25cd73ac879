"""Declarative toolchains: loading files (config), planning against state, and applying plans."""
