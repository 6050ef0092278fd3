"""Is the process that wrote this name still alive? For leases left by a worker killed with ``kill -9``.

A worker names itself ``host:pid:random@place``, where ``place`` says which machine boot, pid
namespace and process start it was (``BOOT.PIDNS.START``, from ``/proc``). Another worker can
then tell, without waiting for anything to expire, that the holder is dead: it ran in the same
boot and pid namespace (so its pid means the same thing here) and no process with that pid and
that start time exists any more (a zombie counts as dead; a pid reused by a newer process does
not fool it). Anything else -- another machine, another container, an older name without
``@place``, a system without ``/proc`` -- is never called dead: its lease expires as before.
"""

from __future__ import annotations

import os
from functools import lru_cache


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ... (comm may hold spaces)


@lru_cache(maxsize=1)
def _namespace() -> str | None:
    """``BOOT.PIDNS`` of this process, or None where there is no /proc to ask."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip().replace("-", "")[:12]
        pidns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    return f"{boot}.{pidns}"


def place(pid: int | None = None) -> str | None:
    """``BOOT.PIDNS.START`` of ``pid`` (default this process), or None when it cannot be told."""
    ns = _namespace()
    fields = _stat_fields(pid or os.getpid())
    if ns is None or fields is None:
        return None
    return f"{ns}.{fields[19]}"  # field 22 of stat: start time in clock ticks since boot


def is_dead(name: str) -> bool:
    """True only when ``name`` (``...:pid:...@place``) is certainly a process of this boot and pid
    namespace that no longer runs."""
    head, sep, where = name.rpartition("@")
    ns = _namespace()
    if not sep or ns is None or not where.startswith(ns + "."):
        return False
    parts = head.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    fields = _stat_fields(pid)
    if fields is None:
        return True  # no such process
    return fields[0] == "Z" or f"{ns}.{fields[19]}" != where  # a zombie, or the pid now belongs to another
