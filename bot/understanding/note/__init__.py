"""Visit-note extraction, one module per concept; `bot.understanding.extract` is the entry point."""
