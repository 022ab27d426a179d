"""Conversation logic without Telegram: what to ask next, and how to read the answer.

Handlers persist a `Dialog` (flow, step, data) per chat in the database, ask `prompt()` and feed
button presses or text to `accept()`. Pure and unit-testable; no I/O, no clock reads.
"""
