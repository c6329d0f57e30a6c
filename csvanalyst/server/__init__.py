"""`csvanalyst serve`: the HTTP API (REST + SSE) and the web page, over the same Session as the CLI and the TUI."""
