"""A local stand-in for Telegram's Bot API: what `make run` sends lead messages and alerts to, with a page listing
them as Telegram would show them. Like the amoCRM sandbox it imports nothing from the project, not even Django.

Run: `python -m notifications.standin --port 8002`, and set TELEGRAM_API_URL=http://127.0.0.1:8002.
"""
