"""Folders csvanalyst ships beside its code: the demo datasets and the sandbox image's build files.

A wheel carries them inside the package as `csvanalyst/_<name>` (pyproject.toml force-includes them), found
through importlib.resources; an editable install of a source checkout reads the checkout's top-level folder.
A folder missing from both is an environment problem with a hint, never a traceback.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from csvanalyst.errors import EnvironmentProblem

Bundle = Literal["datasets", "runner_image"]
# A file each folder must hold, so an unrelated folder of the same name (a `datasets` package in
# site-packages, say) is never taken for ours.
MARKERS: dict[Bundle, str] = {"datasets": "registry.json", "runner_image": "Dockerfile.offline"}


def package_root() -> Path:
    return Path(str(resources.files("csvanalyst")))


def checkout_root() -> Path | None:
    """The source checkout this package runs from, if it does (an editable install or `python -m`)."""
    root = package_root().parent
    return root if (root / "pyproject.toml").is_file() and (root / "csvanalyst").is_dir() else None


def find(name: Bundle) -> Path | None:
    """The bundled folder `name`, or None when this install lacks it."""
    candidates = [package_root() / f"_{name}"]
    checkout = checkout_root()
    if checkout is not None:
        candidates.append(checkout / name)
    return next((p for p in candidates if (p / MARKERS[name]).is_file()), None)


def path(name: Bundle) -> Path:
    """The bundled folder `name`; raises EnvironmentProblem (exit 6) naming what is missing."""
    found = find(name)
    if found is None:
        raise EnvironmentProblem(
            f"This csvanalyst install lacks its {name}/ folder (looked in {package_root() / ('_' + name)}).",
            hint="Reinstall from a complete wheel (`pip install --force-reinstall csvanalyst`) or run from a "
            "source checkout.",
        )
    return found
