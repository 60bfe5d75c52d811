"""`python -m vibechat …` is the `vibechat` command."""

import sys

from vibechat.commands.cli import main

sys.exit(main())
