"""Live updates: the /ws endpoint, a broker between processes, presence and typing,
and the frames that views publish after they commit (docs/live-updates.md).

`vibechat.live.setup.init_live` wires it into the app; this package file imports
nothing, so that a command-line tool can use the envelope without the web stack.
"""
