"""The runner's root filesystem for microVMs, assembled without Docker from the runner image's inputs.

Same parts as the offline image (runner_image/Dockerfile.offline): the cached debootstrap tarball, the
installed engine wheels and the runner package, at the same paths. The directory is named by the image
key, so a rootfs built from older runner code is never booted: a rebuild is asked for instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from csvanalyst.executors.contract import runner_package_dir
from csvanalyst.executors.docker import image as docker_image

UID = 10001
Progress = Callable[[str], None]

# The image's ENV: a directory rootfs carries no image config, so every exec passes it.
IMAGE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "PYTHONPATH": "/opt/csvanalyst:/opt/csvanalyst/site",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "LANG": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
}


def default_rootfs() -> Path:
    """Where build_rootfs puts the rootfs for the current runner code."""
    return docker_image.cache_dir() / f"microvm-rootfs-{docker_image.image_key()}"


def build_rootfs(progress: Progress = lambda _: None) -> Path:
    """Build (once) and return the rootfs directory for the current runner code; no registry needed."""
    target = default_rootfs()
    if target.is_dir():
        return target
    tarball = _base_tarball(progress)
    site = docker_image.ensure_site(progress)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    progress(f"unpacking {tarball.name}")
    _untar(tarball, partial)
    progress("adding the engine and the runner")
    opt = partial / "opt" / "csvanalyst"
    shutil.copytree(site, opt / "site", symlinks=True)
    shutil.copytree(runner_package_dir(), opt / "runner", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _add_runner_user(partial)
    # The guest mounts a tmpfs over /tmp; should that ever fail, the runner must not write into this
    # shared directory instead.
    (partial / "tmp").chmod(0o755)
    partial.rename(target)
    return target


def _base_tarball(progress: Progress) -> Path:
    """The cached Debian base, made with debootstrap when this home has none yet: a runner image built
    earlier (or under another home) leaves no tarball behind in this one."""
    tarball = docker_image.cache_dir() / f"rootfs-{docker_image.base_key()}.tar"
    if not tarball.is_file():
        docker_image.debootstrap_base(tarball, progress)
    return tarball


def _untar(tarball: Path, into: Path) -> None:
    """Device nodes are left out: the guest kernel provides /dev, and only root could create them."""
    from csvanalyst.errors import EnvironmentProblem

    owner = ["--numeric-owner"] if os.geteuid() == 0 else ["--no-same-owner", "--no-same-permissions"]
    argv = ["tar", *owner, "--exclude=./dev/*", "-C", str(into), "-xf", str(tarball)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EnvironmentProblem(
            f"Unpacking {tarball.name} failed: {done.stderr.strip()[-300:]}",
            hint="Check free disk space in the cache directory, then build the rootfs again.",
        )


def _add_runner_user(root: Path) -> None:
    """A named account for uid 10001, for a runtime that resolves the exec user through /etc/passwd."""
    passwd, group = root / "etc" / "passwd", root / "etc" / "group"
    if f":{UID}:" not in passwd.read_text():
        with passwd.open("a") as fh:
            fh.write(f"runner:x:{UID}:{UID}:runner:/tmp:/usr/sbin/nologin\n")
    if f":{UID}:" not in group.read_text():
        with group.open("a") as fh:
            fh.write(f"runner:x:{UID}:\n")
