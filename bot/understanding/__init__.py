"""Message understanding: command grammar and visit-note extraction."""
