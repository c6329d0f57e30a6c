"""Loading MLflow for tracing: only when tracing is on, with nothing leaving the machine on its own.

MLflow by default sends usage telemetry and fetches a model-pricing catalog from the internet on the
first model span (a stall of seconds offline). Both are switched off here, before the first import, and
its HTTP retries are kept short so a tracking server that is down costs one bounded wait, not minutes.
The user's own environment wins over every default set here.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from csvanalyst.errors import EnvironmentProblem

if TYPE_CHECKING:
    from csvanalyst.config import Settings

log = logging.getLogger("csvanalyst.tracing")

INSTALL_HINT = "Install the tracing extra: pip install 'csvanalyst[mlflow]'."

QUIET_ENVIRONMENT = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_MODEL_CATALOG_URI": "",  # empty: no remote pricing catalog (we price calls ourselves)
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    "MLFLOW_LOGGING_LEVEL": "WARNING",  # its INFO lines (queue flushes) would clutter the terminal
}


@dataclass(frozen=True)
class Tracking:
    """A ready MLflow: the module, and the experiment traces go to."""

    mlflow: Any
    experiment_id: str
    uri: str


_lock = threading.Lock()
_loaded: dict[tuple[str, str], Tracking] = {}
_failed: dict[tuple[str, str], str] = {}


def quiet_environment() -> None:
    """Switch off MLflow's own network use unless the user configured it; call before importing mlflow."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def tracking(settings: Settings) -> Tracking | None:
    """MLflow pointed at the configured store and experiment; None (after one warning) when unreachable.

    Raises EnvironmentProblem when the extra is not installed: that is a setup mistake, not an outage."""
    uri = str(settings.mlflow_tracking_uri)
    key = (uri, settings.mlflow_experiment_name)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if key in _failed:
            return None
        mlflow = import_mlflow()
        try:
            ready = Tracking(mlflow, _experiment_id(mlflow, settings, uri), uri)
        except Exception as exc:
            _failed[key] = str(exc)
            warn_once(f"MLflow tracking at {redacted_uri(uri)} is not reachable ({_short(exc)}); turns go on untraced.")
            return None
        _loaded[key] = ready
        return ready


def import_mlflow() -> Any:
    quiet_environment()
    try:
        import mlflow
    except ImportError as exc:
        raise EnvironmentProblem("Tracing is on but MLflow is not installed.", hint=INSTALL_HINT) from exc
    return mlflow


def _experiment_id(mlflow: Any, settings: Settings, uri: str) -> str:
    """The experiment's id, created with its artifacts under the home directory (not the current one)."""
    if uri.startswith("sqlite:///"):
        settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(settings.mlflow_experiment_name)
    if experiment is not None:
        return str(experiment.experiment_id)
    artifacts = (settings.mlflow_dir / "artifacts").as_uri() if uri.startswith("sqlite:") else None
    return str(client.create_experiment(settings.mlflow_experiment_name, artifact_location=artifacts))


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """One warning per kind of trouble per process: tracing problems never flood a chat or a server log."""
    kind = message.split(" (", 1)[0]
    if kind in _warned:
        return
    _warned.add(kind)
    log.warning(message)


def redacted_uri(uri: str) -> str:
    """A tracking URI without any user:password part."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password is None and parts.username is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def forget() -> None:
    """Drop cached tracking state (tests point one process at several stores)."""
    with _lock:
        _loaded.clear()
        _failed.clear()
        _warned.clear()
