"""Entities, enums, validation and the canonical YAML codec (lowest layer)."""
