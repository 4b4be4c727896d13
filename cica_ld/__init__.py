"""cica-ld: query, validate and publish linked data (the CICA knowledge graph by default)."""

__version__ = "0.1.0"
