"""Use cases: the only layer the CLI and the web application call."""
