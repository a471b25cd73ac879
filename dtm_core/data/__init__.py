"""Data files shipped with dtm: the default registry index and its JSON Schema."""
