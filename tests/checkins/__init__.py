"""Check-ins: commands, modals, parsing and scheduled prompts."""
