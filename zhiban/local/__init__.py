"""Local development tooling: the embedded homeserver, the one-command local stack and the guided
tour behind `zhiban up`. A deployment brings its own homeserver and Redis and never runs these."""
