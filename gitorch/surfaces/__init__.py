"""The ways in: the ``git orch`` command line, the Python API, MCP, git hooks."""
