"""Serve the demo with uvicorn on 127.0.0.1 until Ctrl-C or SIGTERM, then exit quietly; `make demo`
runs it as ``python serve.py PORT``.

Once uvicorn has shut down gracefully it raises the signal that stopped it again, so that the
process dies of it; ``make`` then reports the stop as a failure ("Interrupt", "Error 130").
Stopping the demo is not a failure: the handlers uvicorn puts back, and so raises, exit with 0.
"""

import signal
import sys

import uvicorn

HOST = "127.0.0.1"


def stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(port: int) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stopped)
    uvicorn.run("demo.asgi:app", host=HOST, port=port)


if __name__ == "__main__":
    main(int(sys.argv[1]))
