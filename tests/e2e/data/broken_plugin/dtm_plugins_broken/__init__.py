"""A plugin whose import fails, as a plugin missing a dependency would."""

raise RuntimeError("boom")
