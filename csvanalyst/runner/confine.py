"""The kernel's half of the snippet's confinement: Landlock, applied to the snippet's own process.

An audit hook lives in the interpreter it guards, so code that escapes the restricted layer can reach
it. Landlock cannot be reached that way: once a process restricts itself, neither it nor anything it
starts can lift the restriction, whatever it does to its own memory. The snippet's process restricts
itself, before the snippet runs, to:
- reading only the interpreter's files, the dataset files and its own scratch directory, writing only
  in its scratch (no device nodes, FIFOs, sockets or symlinks anywhere), executing no program;
- no TCP bind or connect (Landlock ABI 4 and later);
- no signals to, and no abstract Unix sockets of, any process outside its own domain (ABI 6 and
  later): the runner that checks its result, the warm worker and every other run are out of reach.
Landlock also refuses ptrace of any process outside the domain.

The OS sandbox around the runner stays the boundary (Landlock is absent from old kernels and from some
container runtimes); `apply` reports what it achieved, and the runner records it with the result.
Stdlib only (ctypes over the three system calls, which have the same numbers on every architecture).
"""

from __future__ import annotations

import ctypes
import os
import stat
from collections.abc import Iterable

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only rights a rule on a file may hold
READ_TREE = READ_FILE | READ_DIR
WRITE_TREE = READ_TREE | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | TRUNCATE


class RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class Unavailable(OSError):
    """Landlock cannot be applied here (old kernel, disabled, or refused by a container's seccomp)."""


def abi_version(libc: ctypes.CDLL) -> int:
    version = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), CREATE_RULESET_VERSION)
    return max(0, int(version))


def handled_fs(abi: int) -> int:
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def apply(read_paths: Iterable[str], write_dirs: Iterable[str]) -> str:
    """Confine this process for good; returns what was applied ("landlock abi N"), or raises Unavailable."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = abi_version(libc)
    if abi < 1:
        raise Unavailable(ctypes.get_errno(), f"Landlock is not available: {os.strerror(ctypes.get_errno())}")
    attr = RulesetAttr(handled_fs(abi), NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0, 0)
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise Unavailable(ctypes.get_errno(), f"Landlock refused a ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        for path in read_paths:
            _allow(libc, ruleset, path, READ_TREE)
        for path in write_dirs:
            _allow(libc, ruleset, path, WRITE_TREE)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.syscall(SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise Unavailable(ctypes.get_errno(), f"Landlock could not restrict: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return f"landlock abi {abi}"


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    """One rule; a path that does not exist here is simply not granted."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        rule = PathBeneathAttr(rights, fd)
        if libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            reason = os.strerror(ctypes.get_errno())
            raise Unavailable(ctypes.get_errno(), f"Landlock refused a rule for {path}: {reason}")
    finally:
        os.close(fd)
