"""A state machine definition as text becomes an object: the first stage of the pipeline.

:func:`read_definition` reads it once, keeping what validation needs (keys given twice);
the same object is then validated, compiled and run.
"""

from asl.definition.reader import (DefinitionError, LoadedDefinition, load_definition,
                                   read_definition, substitute)

__all__ = ["DefinitionError", "LoadedDefinition", "load_definition", "read_definition",
           "substitute"]
