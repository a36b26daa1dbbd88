"""Smart RLP Live: the companion page for virtual public events."""

__version__ = "0.1.0"
