"""Everyday commands every user needs: ping, language, time zone, who am I."""
