"""The application image (`csvanalyst serve`), built offline on the runner image's Debian base.

Two layers over the base: the runtime dependencies, pinned to the versions this environment runs and
cached like the runner's wheels, and csvanalyst itself as a wheel built from this checkout. The tag is a
hash of everything that goes in, so an unchanged checkout is not rebuilt.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from csvanalyst.executors.docker import image as docker_image
from csvanalyst.executors.docker.image import Progress

IMAGE_REPO = "csvanalyst-app"
EXTRAS = ("kubernetes",)
DOCKERFILE = "runner_image/Dockerfile.app.offline"
SOURCES = ("csvanalyst", "datasets")
PROJECT_FILES = ("pyproject.toml", "README.md")


def repo_root() -> Path:
    """The source checkout the application image is built from; an installed wheel has none."""
    from csvanalyst import bundled
    from csvanalyst.errors import EnvironmentProblem

    root = bundled.checkout_root()
    if root is None:
        raise EnvironmentProblem(
            "`deploy image` builds csvanalyst from its source checkout, and this install is not one.",
            hint="Run it from a clone of the repository (`pip install -e .` there), or build "
            "runner_image/Dockerfile.app with a registry.",
        )
    return root


def dependency_pins() -> list[str]:
    """csvanalyst's runtime requirements (with EXTRAS) and theirs, at the versions installed here: the image
    runs what the tests ran. A requirement not installed here is passed on unpinned."""
    from packaging.requirements import Requirement

    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    for extra in EXTRAS:
        todo += [Requirement(r) for r in project["optional-dependencies"][extra]]
    pins: dict[str, str] = {}
    while todo:
        req = todo.pop()
        name = _canonical(req.name)
        if name in pins:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            pins[name] = str(req)
            continue
        pins[name] = f"{name}=={dist.version}"
        todo += _requirements_of(dist, req.extras)
    return sorted(pins.values())


def _requirements_of(dist: metadata.Distribution, extras: set[str]) -> list[Any]:
    from packaging.requirements import Requirement

    found = []
    for line in dist.requires or []:
        req = Requirement(line)
        envs = [{"extra": e} for e in extras] or [{"extra": ""}]
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            found.append(req)
    return found


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def source_files() -> list[Path]:
    """What the csvanalyst wheel is built from."""
    root = repo_root()
    files = [root / name for name in PROJECT_FILES]
    for top in SOURCES:
        files += [p for p in (root / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(files)


def site_key() -> str:
    return docker_image.digest("app-site", *dependency_pins(), *docker_image.PLATFORMS)


def image_key() -> str:
    """A change to the base, a dependency, the Dockerfile or any source file means a different tag."""
    root = repo_root()
    parts: list[str | bytes] = [docker_image.base_key(), site_key(), (root / DOCKERFILE).read_bytes()]
    for path in source_files():
        parts += [str(path.relative_to(root)), path.read_bytes()]
    return docker_image.digest(*parts)


def image_tag() -> str:
    return f"{IMAGE_REPO}:{image_key()}"


def build(client: Any, extra_tags: tuple[str, ...] = (), progress: Progress = lambda _: None) -> dict[str, Any]:
    """Build the image unless this exact one exists; returns its tag, whether it was cached and step timings."""
    import docker.errors

    started = time.perf_counter()
    tag = image_tag()
    report: dict[str, Any] = {"tag": tag, "cached": True}
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        image = _build(client, tag, report, progress)
        report["cached"] = False
    from csvanalyst import __version__

    # :<version> is the tag the Helm chart pulls by default (its appVersion)
    for name in (f"{IMAGE_REPO}:latest", f"{IMAGE_REPO}:{__version__}", *extra_tags):
        repo, _, version = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
        image.tag(repo, version)
    report["size_mb"] = round(image.attrs["Size"] / 1e6, 1)
    report["total_s"] = round(time.perf_counter() - started, 1)
    return report


def _build(client: Any, tag: str, report: dict[str, Any], progress: Progress) -> Any:
    step = time.perf_counter()
    base = docker_image.ensure_base(client, progress)
    report["base_s"] = _since(step)
    step = time.perf_counter()
    site = ensure_site(progress)
    report["deps_s"] = _since(step)
    docker_image.cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=docker_image.cache_dir(), prefix="app-context-") as work:
        ctx = Path(work)
        step = time.perf_counter()
        build_app(ctx / "app", progress)
        report["wheel_s"] = _since(step)
        step = time.perf_counter()
        _assemble(ctx, site)
        progress(f"building {tag}")
        client.images.build(
            path=str(ctx), dockerfile=DOCKERFILE, buildargs={"BASE": base}, tag=tag, rm=True, forcerm=True
        )
        report["image_s"] = _since(step)
    return client.images.get(tag)


def ensure_site(progress: Progress) -> Path:
    """The runtime dependencies installed for the image's Python, cached by their pinned versions."""
    site = docker_image.cache_dir() / f"site-{site_key()}"
    if not site.exists():
        docker_image.install_site(dependency_pins(), site, progress)
    return site


def build_app(target: Path, progress: Progress) -> None:
    """csvanalyst itself: a wheel of this checkout, installed without dependencies into `target`."""
    import importlib.util

    pip = [docker_image.host_python(), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # The build backend is usually installed already; asking pip to fetch it again costs a network round trip.
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    wheels = target.with_name("wheel")
    progress("building the csvanalyst wheel")
    docker_image.run_step([*pip, "wheel", "--no-deps", *isolation, "-w", str(wheels), str(repo_root())], "pip wheel")
    (wheel,) = wheels.glob("csvanalyst-*.whl")
    docker_image.run_step(
        [*pip, "install", "--no-deps", "--no-compile", "--no-index", "--target", str(target), str(wheel)],
        "pip install",
    )
    shutil.rmtree(target / "bin", ignore_errors=True)


def _assemble(ctx: Path, site: Path) -> None:
    """The context mirrors what Dockerfile.app builds in its first stage, so both share the final stage."""
    (ctx / "runner_image").mkdir()
    shutil.copy2(repo_root() / DOCKERFILE, ctx / DOCKERFILE)
    # Hard links: the dependency tree is large and lives on the same filesystem as this context.
    shutil.copytree(site, ctx / "site", symlinks=True, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 1)
