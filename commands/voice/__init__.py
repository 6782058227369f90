"""The voice feature."""
