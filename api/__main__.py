"""`python -m api`: see api.server."""

import sys

from api.server import main

sys.exit(main())
