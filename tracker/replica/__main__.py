"""``python -m tracker.replica [--port N] [--csv PATH [--limit N]]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

from tracker.replica.model import Replica
from tracker.replica.server import ReplicaServer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tracker.replica", description=__doc__)
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    ap.add_argument("--csv", help="MAPLE history CSV (id,action,branch,date) to load instead of the bundled bills")
    ap.add_argument("--limit", type=int, default=None, help="with --csv: keep the first N bills")
    args = ap.parse_args(argv)
    if args.limit is not None and not args.csv:
        ap.error("--limit needs --csv")
    replica = Replica.from_csv(args.csv, limit=args.limit) if args.csv else Replica.bundled()
    replica.log_limit = 10_000  # serving until Ctrl-C: do not let the request log grow without bound
    server = ReplicaServer(replica, port=args.port)
    base = server.start()
    print(base, flush=True)
    print(f"serving {len(replica)} bills; Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
