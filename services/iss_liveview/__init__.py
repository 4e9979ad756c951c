"""Live view: a WebSocket gateway and page that show positions as they arrive."""
