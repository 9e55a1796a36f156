"""The server itself: a store, the service over it and an HTTP listener (see
:mod:`asl.server`, which exports these names)."""

from __future__ import annotations

import contextlib
import logging
import threading
from http.server import ThreadingHTTPServer
from typing import Iterator

from asl.server import DEFAULT_PORT
from asl.server.protocol import ApiError, make_handler
from asl.server.service import Service
from asl.server.store import Store

__all__ = ["Server", "serve", "running_server", "ApiError", "DEFAULT_PORT"]

log = logging.getLogger("asl.server")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Server:
    """One server: a store, the service over it, and an HTTP listener.

    ``db`` is a SQLite file (created if absent) or ``":memory:"``; ``resources`` maps
    Resource strings or Lambda function names to callables (as ``StateMachine.execute``
    takes them); ``mock_config`` is a loaded Step Functions Local mock file (StartExecution
    with ``stateMachineArn#TestCase`` runs that test case).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 db: str = ":memory:", resources: dict | None = None, *,
                 mock_config: dict | None = None, region: str = "us-east-1",
                 account: str = "123456789012", virtual_time: bool = False,
                 quiet: bool = True) -> None:
        self.store = Store(db)
        try:
            self.service = Service(self.store, resources=resources, mock_config=mock_config,
                                   region=region, account=account, virtual_time=virtual_time)
            handler = make_handler(self.service.dispatch, self.service.supported, quiet=quiet)
            self.httpd = _HTTPServer((host, port), handler)
        except BaseException:
            self.store.close()
            raise

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.1)

    def close(self) -> None:
        """Stop listening and close the store (executions still running are left RUNNING
        in it; the next server on the same file ends them, see docs/serve.md)."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.service.close()
        self.store.close()


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, db: str = ":memory:",
          resources: dict | None = None, **options) -> None:
    """Serve until interrupted (Ctrl-C); ``options`` as :class:`Server` takes them."""
    server = Server(host, port, db, resources, **options)
    log.info("asl serve listening on %s (store: %s)", server.url, db)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.service.close()
        server.store.close()


@contextlib.contextmanager
def running_server(host: str = "127.0.0.1", port: int = 0, db: str = ":memory:",
                   resources: dict | None = None, **options) -> Iterator[str]:
    """Start a server on a free port (``port=0``) in a daemon thread; yield its URL."""
    server = Server(host, port, db, resources, **options)
    thread = threading.Thread(target=server.serve_forever, name="asl-serve", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.close()
        thread.join(timeout=5)
