"""moto's S3 API server as a process of its own, on a free port.

`python -m tests.s3_server` binds port 0, prints `PORT <n>` and serves until
it is stopped. The same server `python -m moto.server` runs, but it says which
port it got, so tests never collide with anything else on the machine.
"""

import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def main() -> None:
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
