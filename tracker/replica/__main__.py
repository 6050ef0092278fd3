"""``python -m tracker.replica [--port N] [--csv PATH [--limit N]] [--dockets [193=6500,194=7000]]
[--latency SECONDS]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

from tracker.replica.docket import add_docket
from tracker.replica.model import Replica
from tracker.replica.server import ReplicaServer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tracker.replica", description=__doc__)
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    ap.add_argument("--csv", help="MAPLE history CSV (id,action,branch,date) to load instead of the bundled bills")
    ap.add_argument("--limit", type=int, default=None, help="with --csv: keep the first N bills")
    ap.add_argument("--dockets", nargs="?", const="193,194", default=None, metavar="GC[=N],...",
                    help="also serve generated whole dockets (default: 193,194 at their default sizes; "
                         "e.g. 194=10000)")
    ap.add_argument("--seed", default=None, help="with --dockets: the generator's seed")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds every answer waits (e.g. 0.02)")
    args = ap.parse_args(argv)
    if args.limit is not None and not args.csv:
        ap.error("--limit needs --csv")
    dockets: dict[int, int | None] = {}
    for part in (args.dockets or "").split(","):
        if part.strip():
            gc, _, size = part.partition("=")
            try:
                dockets[int(gc)] = int(size) if size.strip() else None
            except ValueError:
                ap.error(f"--dockets: {part!r} is not GC or GC=N")
    replica = Replica.from_csv(args.csv, limit=args.limit) if args.csv else Replica.bundled()
    for gc, size in dockets.items():
        add_docket(replica, gc, size, seed=args.seed)
    replica.delay_s = args.latency
    replica.log_limit = 10_000  # serving until Ctrl-C: do not let the request log grow without bound
    server = ReplicaServer(replica, port=args.port)
    base = server.start()
    print(base, flush=True)
    print(f"serving {len(replica)} documents; Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
