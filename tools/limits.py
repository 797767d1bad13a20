"""Process limits for many connections: the CSMS and the fleet each hold one socket (and the fleet one store
file) per station, more than the usual soft limit of 1,024 open files allows."""

from __future__ import annotations

import resource


def open_files_as_allowed() -> int:
    """Raise the soft limit on open files to the hard limit; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # a hard limit of infinity some kernels refuse as a soft one: keep ours
            pass
    return soft
