from .fixtures import http_server, second_http_server

__all__ = ["http_server", "second_http_server"]
