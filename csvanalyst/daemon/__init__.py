"""The background worker that keeps the CLI warm (docs/daemon.md).

`client` is the console-script entry point and imports only the standard library; `server` is the
fork server a client starts on first use; `child` is what a forked request process does; `keeper`
holds the warm sandbox pools; `proxy` is the local sandbox as a request process sees it.
"""
