"""`python -m bot` is the `boneload` command."""

from bot.cli import main

main()
