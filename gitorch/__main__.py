"""``python -m gitorch`` runs the same entry point as ``git orch``."""

from gitorch.surfaces.main import main

raise SystemExit(main())
