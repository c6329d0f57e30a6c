"""Building the runner image without a registry, and naming it by what went into it.

The tag carries a hash of the runner's source, the Dockerfile and the pinned engine versions, so an
image built from older runner code is never used by mistake: the executor asks for a rebuild instead.
Slow inputs are cached under ~/.cache/csvanalyst/, keyed by a hash of their own inputs: the Debian
root filesystem (debootstrap, about a minute) and the installed wheels.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from csvanalyst.executors.contract import runner_package_dir

IMAGE_REPO = "csvanalyst-runner"
BASE_REPO = "csvanalyst-base"
SUITE = "bookworm"
MIRROR = os.environ.get("CSVANALYST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
ENGINE = ("duckdb", "pandas", "numpy")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
TRIM = ("usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "var/cache/apt", "var/lib/apt/lists")
LABEL = "csvanalyst.runner"

Progress = Callable[[str], None]


def image_dir() -> Path:
    """runner_image/, as this install carries it (csvanalyst.bundled)."""
    from csvanalyst import bundled

    return bundled.path("runner_image")


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "csvanalyst"


def pins() -> list[str]:
    """The host's engine versions: both sandboxes run the same DuckDB."""
    return [f"{name}=={metadata.version(name)}" for name in ENGINE]


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def runner_files() -> list[Path]:
    root = runner_package_dir()
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def base_key() -> str:
    return digest("debootstrap", "minbase", SUITE, "python3", MIRROR, *TRIM)


def site_key() -> str:
    return digest("site", *pins(), *PLATFORMS)


def image_key() -> str:
    """Everything that goes into the image; a change to any of it means a different tag."""
    root = runner_package_dir()
    parts: list[str | bytes] = [base_key(), site_key(), (image_dir() / "Dockerfile.offline").read_bytes()]
    for path in runner_files():
        parts += [str(path.relative_to(root)), path.read_bytes()]
    return digest(*parts)


def image_tag() -> str:
    """The image the docker sandbox runs; CSVANALYST_RUNNER_IMAGE names another (e.g. from a registry)."""
    return os.environ.get("CSVANALYST_RUNNER_IMAGE") or f"{IMAGE_REPO}:{image_key()}"


def build(client: Any, progress: Progress = lambda _: None) -> dict[str, float | str]:
    """Build the image offline; returns the tag and how long each step took (seconds)."""
    import time

    timings: dict[str, float | str] = {}
    tag = f"{IMAGE_REPO}:{image_key()}"
    started = time.perf_counter()
    base = ensure_base(client, progress)
    timings["base_s"] = round(time.perf_counter() - started, 1)
    step = time.perf_counter()
    site = ensure_site(progress)
    timings["wheels_s"] = round(time.perf_counter() - step, 1)
    step = time.perf_counter()
    progress(f"building {tag}")
    with tempfile.TemporaryDirectory(prefix="csvanalyst-image-") as ctx:
        _assemble(Path(ctx), site)
        client.images.build(
            path=ctx,
            dockerfile="runner_image/Dockerfile.offline",
            buildargs={"BASE": base},
            tag=tag,
            labels={LABEL: "image"},
            rm=True,
            forcerm=True,
        )
    client.images.get(tag).tag(IMAGE_REPO, "latest")
    timings["image_s"] = round(time.perf_counter() - step, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    timings["tag"] = tag
    return timings


def _assemble(ctx: Path, site: Path) -> None:
    """The build context mirrors the repository layout, so both Dockerfiles share their final stage."""
    (ctx / "runner_image").mkdir()
    shutil.copy2(image_dir() / "Dockerfile.offline", ctx / "runner_image" / "Dockerfile.offline")
    shutil.copytree(
        runner_package_dir(),
        ctx / "csvanalyst" / "runner",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copytree(site, ctx / "site", symlinks=True)


def ensure_base(client: Any, progress: Progress) -> str:
    """The imported Debian base image, from the docker cache, the tarball cache, or debootstrap."""
    import docker.errors

    tag = f"{BASE_REPO}:{base_key()}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    tarball = cache_dir() / f"rootfs-{base_key()}.tar"
    if not tarball.exists():
        debootstrap_base(tarball, progress)
    progress(f"importing {tarball.name}")
    repo, _, version = tag.partition(":")
    with tarball.open("rb") as fh:
        client.api.import_image_from_data(fh, repository=repo, tag=version)
    return tag


def debootstrap_base(tarball: Path, progress: Progress) -> None:
    """Make the Debian base tarball (minbase + python3), shared by the runner image and the microVM rootfs."""
    from csvanalyst.errors import EnvironmentProblem

    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        raise EnvironmentProblem(
            "The offline runner image needs debootstrap, run as root, to make its Debian base.",
            hint="Run `apt-get install debootstrap` and build as root, or build runner_image/Dockerfile "
            "with a registry and set CSVANALYST_RUNNER_IMAGE to its tag.",
        )
    tarball.parent.mkdir(parents=True, exist_ok=True)
    progress(f"debootstrap {SUITE} (minbase + python3) from {MIRROR}")
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as work:
        root = Path(work) / "root"
        run_step(["debootstrap", "--variant=minbase", "--include=python3", SUITE, str(root), MIRROR], "debootstrap")
        for rel in TRIM:
            shutil.rmtree(root / rel, ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        run_step(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."], "tar")
        partial.rename(tarball)


def ensure_site(progress: Progress) -> Path:
    """Wheels fetched with `pip download`, installed for the image's Python into a cached directory."""
    site = cache_dir() / f"site-{site_key()}"
    if not site.exists():
        install_site(pins(), site, progress)
    return site


def install_site(specs: list[str], site: Path, progress: Progress) -> None:
    """`specs` as binary wheels for the image's CPython 3.11 on Linux, installed into `site` (atomically)."""
    wheels = site.with_name(site.name.replace("site-", "wheels-", 1))
    target = ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]
    for platform in PLATFORMS:
        target += ["--platform", platform]
    pip = [host_python(), "-m", "pip", "--disable-pip-version-check"]
    progress(f"pip download {len(specs)} requirement(s)")
    run_step([*pip, "download", "--quiet", "-d", str(wheels), *target, *specs], "pip download")
    partial = site.with_name(site.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    run_step(
        [*pip, "install", "--quiet", "--no-index", "--find-links", str(wheels), "--no-compile", "--target",
         str(partial), *target, *specs],
        "pip install",
    )  # fmt: skip
    for rel in ("pandas/tests", "bin"):
        shutil.rmtree(partial / rel, ignore_errors=True)
    partial.rename(site)


def host_python() -> str:
    import sys

    return sys.executable


def run_step(argv: list[str], what: str) -> None:
    from csvanalyst.errors import EnvironmentProblem

    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise EnvironmentProblem(
            f"Building the image failed at {what}: {' '.join(tail) or 'no output'}",
            hint="Check network access to the Debian mirror and the Python package index.",
        )
