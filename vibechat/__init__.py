"""vibechat: a server-rendered group chat.

The package itself imports nothing, so that the command line (`vibechat --help`, the
admin commands) starts without loading the web stack. `vibechat.app.create_app()`
builds the Quart application; docs/architecture.md maps the rest.
"""
