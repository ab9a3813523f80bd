"""``python -m social_crm_module``: see :mod:`.cli`."""

from .cli import main

raise SystemExit(main())
