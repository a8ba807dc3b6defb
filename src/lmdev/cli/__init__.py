from lmdev.cli.launch import main

__all__ = ["main"]
