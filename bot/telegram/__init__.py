"""The Telegram shell: application wiring, handlers, rendering and the agenda's sender."""
