"""The ASL JSON Schema, shipped as package data (``asl.schemas``)."""
