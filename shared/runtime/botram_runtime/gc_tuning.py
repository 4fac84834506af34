"""The garbage collector tuned for a long-running service (or a replay): a module of its own
so that a command imports it without the web server."""

import gc

# CPython's cyclic collector runs a young-generation pass every 700 net allocations, and
# its older passes walk most of the heap: under load they made the check-in's latency tail
# (p99 ~120-150 ms at 300 check-ins/s here, ~25-50 ms with these thresholds; BENCHMARKS.md).
GC_THRESHOLDS = (10_000, 20, 50)


def tune_garbage_collector() -> None:
    """Fewer collections, and none over what start-up built (modules, the app) for good."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
