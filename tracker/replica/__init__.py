"""A local replica of malegislature.gov for tests and demos.

``Replica`` is the mutable model (bills and whole dockets, fault switches, request log);
``ReplicaServer`` serves it over real HTTP on 127.0.0.1 in the site's page and
API shapes, so the spiders' parsers run against it unchanged.
"""

from tracker.replica.model import Replica, ReplicaBill, ReplicaDocument
from tracker.replica.server import ReplicaServer

__all__ = ["Replica", "ReplicaBill", "ReplicaDocument", "ReplicaServer"]
