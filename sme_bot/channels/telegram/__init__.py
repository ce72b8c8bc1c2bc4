"""The Telegram channel: the owner's journey through python-telegram-bot."""
