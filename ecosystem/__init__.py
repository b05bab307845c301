"""helixmap: a quadruple-helix ecosystem network mapper."""

__version__ = "0.1.0"
