"""Channel adapters: translate between a channel (console, Telegram) and the core."""
