"""The imperative shell's workflows: load state, call the core, save, schedule — in one transaction.

Telegram handlers and CLI commands call these; they never touch SQL or clinical rules themselves.
"""
