"""The tasks feature."""
