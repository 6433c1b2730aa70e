from __future__ import annotations

import sys

from minbar.cli import main

sys.exit(main())
