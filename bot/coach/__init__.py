"""The coach's side, pure: roster ordering, the weekly digest, the runner detail and chart.

Nothing here touches Telegram, the database or the clock. Handlers load `views` dataclasses from
the store, call `roster`, `digest` and `chart`, and send what comes back. Every coach-facing word
lives in `bot.texts_coach`.
"""
