"""Zhongshu's WeCom side: callback, understanding, sender, emulator and CLI."""
