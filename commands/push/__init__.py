"""The push feature."""
