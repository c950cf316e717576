"""The wiring: HTTP and security, the CLI, process roles, start-up, cross-feature checks."""
