"""notifications's models."""
