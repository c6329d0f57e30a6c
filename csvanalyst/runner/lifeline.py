"""The runner ends itself as soon as the host stops reading its answer.

The host already takes its sandbox processes with it when it dies (PR_SET_PDEATHSIG, bwrap's
--die-with-parent), but that chain has a gap: a host killed while bwrap is still building the sandbox is
gone before the process inside has asked for the signal, and the runner would then go on with the request
already in its input until its CPU limit. Only the host reads the runner's stdout, so once the host is
gone that pipe has no reader left, and poll() says so at once (POLLERR on a pipe's write end) whatever
killed the host and whenever.
"""

from __future__ import annotations

import os
import select
import stat
import threading
from collections.abc import Callable

HOST_GONE_EXIT = 75  # nobody reads it; distinct only for whoever inspects a stray process


def watch(fd: int, before_exit: Callable[[], None] = lambda: None) -> None:
    """End this process once nobody reads `fd`, after `before_exit` (which kills what it started).

    As PID 1 of a namespace its end takes everything in the namespace with it. A no-op unless `fd` is a
    pipe: through a container runtime the reader is the runtime, not the host."""
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
    except OSError:
        return
    threading.Thread(target=_exit_when_unread, args=(fd, before_exit), name="runner-lifeline", daemon=True).start()


def _exit_when_unread(fd: int, before_exit: Callable[[], None]) -> None:
    poller = select.poll()
    poller.register(fd, 0)  # no events asked for: poll still reports POLLERR, POLLHUP and POLLNVAL
    while True:
        for _, event in poller.poll():
            if event & select.POLLNVAL:
                return  # the runner closed its own stdout: its answer is written, nothing to watch
            if event & select.POLLERR:
                try:
                    before_exit()
                finally:
                    os._exit(HOST_GONE_EXIT)
