"""The `vibechat` command line and what only it uses (admin, backup, copy, seed).
Nothing here imports Quart: a command starts in a fraction of a second."""
