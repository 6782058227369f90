"""Step-up authenticators in chat: `!安全` shows one's own, and an admin resets someone's."""
