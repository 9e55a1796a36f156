"""The expression languages a definition is written in, shared by validation and compilation.

* :mod:`~asl.language.jsonpath`: JSONPath paths and reference paths (Jayway's dialect);
* :mod:`~asl.language.paths`: the JSONPath I/O pipeline pieces (selectors, payload
  templates, ResultPath), compiled to evaluators;
* :mod:`~asl.language.intrinsics`: the ``States.*`` intrinsic functions;
* :mod:`~asl.language.jsonata`: JSONata through jsonata-python, with AWS's functions;
* :mod:`~asl.language.timestamps`: ISO-8601 timestamps as AWS reads and writes them.
"""
