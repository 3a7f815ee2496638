"""kg: build, validate and query a grounded knowledge graph from a project folder.

The package holds no article-specific knowledge: everything lives in the project folder
(see docs/conventions.md). Importing it does no work; each public function takes the project.
"""

__version__ = "0.1.0"
