"""The session timer: a voice message that beeps at each run/walk switch of a session.

`plan` turns a prescription into cues (pure), `audio` renders cues into Ogg/Opus bytes
(pure, CPU only), `cache` keeps rendered timers by plan so a prescription is rendered once.
"""
