"""The package's version, in a module of its own so that any module may import it without
importing the package's public API (and so everything else)."""

__version__ = "0.1.0"
