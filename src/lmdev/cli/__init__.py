from lmdev.cli.app import main

__all__ = ["main"]
