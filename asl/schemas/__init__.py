"""The ASL JSON Schema (2020-12), package data so that every install can read it.

``schemas/asl.schema.json`` at the top of the source tree links here, for editors.
"""
