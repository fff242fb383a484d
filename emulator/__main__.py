"""`python -m emulator`: serve the emulator on a fixed loopback port until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from emulator.server import SANDBOX_MANAGEMENT_KEY, Emulator, is_loopback


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local OpenRouter management API (loopback only, in memory).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = free)")
    parser.add_argument(
        "--management-key-env",
        metavar="VAR",
        help="seed the management key read from this environment variable instead of the "
        f"sandbox one ({SANDBOX_MANAGEMENT_KEY})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_loopback(args.host):
        print(
            f"error: --host {args.host} is not a loopback address; the emulator serves "
            "127.0.0.1 (or ::1, localhost) only",
            file=sys.stderr,
        )
        return 2
    management_key = SANDBOX_MANAGEMENT_KEY
    if args.management_key_env:
        management_key = os.environ.get(args.management_key_env, "")
        if not management_key.strip():
            print(
                f"error: --management-key-env {args.management_key_env}: that environment "
                "variable is unset or empty; export it or leave the option out to use the "
                "sandbox key",
                file=sys.stderr,
            )
            return 2
    try:
        emulator = Emulator(args.host, args.port)
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    emulator.add_management_key(management_key)
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    emulator.start()
    print(f"OpenRouter emulator: {emulator.api_base_url}", flush=True)
    while not stopping.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
