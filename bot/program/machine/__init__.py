"""The stage machine's steps, one module each; `bot.program.engine.decide` is the
entry point and the only one callers use."""
