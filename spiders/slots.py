"""A downloader whose per-site limit holds when many requests of one site are queued at once.

Scrapy 2.19's downloader moves a site's queued requests to the network in a loop that stops when the
site's slot has no free place, but a request only takes its place once the task that downloads it has
started (``Slot.transferring`` is filled in ``_download``). Under the asyncio reactor that task starts
on the next turn of the loop, so one pass could send every queued request of a site at once: three
and more at a time to a site limited to two (``tests/test_poll_hosts.py`` counts them at the server).
Here a request takes its place as soon as it leaves the queue.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader
from scrapy.utils.defer import _schedule_coro


class SlotLimitedDownloader(Downloader):
    def _process_queue(self, slot) -> None:
        if slot.latercall or slot.download_delay():
            # with a delay Scrapy sends one request per pass (no burst): its own loop is right
            super()._process_queue(slot)
            return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = monotonic()
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # taken now; _download adds it again and frees it when done
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
