"""gitorch: coordinate several coding agents on one git repository.

Importing the package stays cheap on purpose: every ``git orch`` process
pays for what it imports, so submodules are loaded only when a method needs
them (see DESIGN.md, performance budget).
"""

__version__ = "0.1.0"
