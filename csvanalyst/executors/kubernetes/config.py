"""Finding the cluster: the pod's service account inside one, else a kubeconfig; and `doctor`'s check.

The client configuration is always a fresh `Configuration`, never the library's global one, so two
executors (or a test's local API server) never see each other's credentials.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csvanalyst.errors import EnvironmentProblem

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
NO_KUBECONFIG_HINT = (
    "Set KUBECONFIG (or create ~/.kube/config, e.g. with `kind create cluster`), run inside a cluster, "
    "or use --sandbox local."
)
PROBE_TIMEOUT_S = 3.0


@dataclass
class Connection:
    """An API client and the namespace its configuration implies (None: it implies none)."""

    api_client: Any
    namespace: str | None
    host: str


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def import_sdk() -> Any:
    try:
        import kubernetes
    except ImportError as exc:
        raise EnvironmentProblem(
            "The kubernetes sandbox needs the Kubernetes client for Python.", hint="Run `pip install kubernetes`."
        ) from exc
    return kubernetes


def connect(context: str | None = None) -> Connection:
    """A client for this pod's cluster, or for the kubeconfig's (given or current) context."""
    kubernetes = import_sdk()
    configuration = kubernetes.client.Configuration()
    try:
        if in_cluster():
            kubernetes.config.load_incluster_config(client_configuration=configuration)
            namespace = _pod_namespace()
        else:
            path = _kubeconfig_path()
            kubernetes.config.load_kube_config(
                config_file=path, context=context, client_configuration=configuration, persist_config=False
            )
            namespace = _context_namespace(path, context)
    except kubernetes.config.ConfigException as exc:
        where = "the pod's service account" if in_cluster() else f"the kubeconfig ({_kubeconfig_path()})"
        raise EnvironmentProblem(
            f"Cannot configure the Kubernetes client from {where}: {exc}", hint=NO_KUBECONFIG_HINT
        ) from exc
    return Connection(kubernetes.client.ApiClient(configuration), namespace, configuration.host)


def _kubeconfig_path() -> str:
    """KUBECONFIG as it is now (the library reads it once, at import), checked so the error is ours."""
    raw = os.environ.get("KUBECONFIG") or "~/.kube/config"
    paths = [p for p in raw.split(os.pathsep) if p]
    if not any(Path(p).expanduser().is_file() for p in paths):
        raise EnvironmentProblem(
            f"No kubeconfig: {raw} does not exist and this process is not running in a Kubernetes cluster.",
            hint=NO_KUBECONFIG_HINT,
        )
    return raw


def _pod_namespace() -> str | None:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
    except OSError:
        return None


def _context_namespace(path: str, context: str | None) -> str | None:
    from kubernetes import config

    contexts, current = config.list_kube_config_contexts(config_file=path)
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    return ((chosen or {}).get("context") or {}).get("namespace")


def host_of(api_client: Any) -> str:
    return str(getattr(api_client.configuration, "host", "") or "the API server")


def check_access(api_client: Any, namespace: str) -> list[str]:
    """The RBAC rules a run needs that this identity lacks in `namespace` (one SelfSubjectAccessReview each)."""
    from kubernetes import client

    from csvanalyst.executors.kubernetes.errors import RUN_CALLS

    api = client.AuthorizationV1Api(api_client)
    missing = []
    for call in RUN_CALLS:
        attributes = client.V1ResourceAttributes(
            namespace=namespace,
            verb=call.verb,
            group=call.group,
            resource=call.resource,
            subresource=call.subresource or None,
        )
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        )
        answer = api.create_self_subject_access_review(review, _request_timeout=PROBE_TIMEOUT_S)
        if not (answer.status and answer.status.allowed):
            missing.append(call.rule)
    return missing


def probe_cluster(api_client: Any, namespace: str) -> tuple[str, str | None]:
    """(server version, None) when the API answers and this identity may run Jobs in `namespace`, else
    ("", why not): shared by `doctor` and the server's readiness."""
    from kubernetes import client

    from csvanalyst.executors.kubernetes.errors import api_message, status_of

    host = host_of(api_client)
    try:
        version = client.VersionApi(api_client).get_code(_request_timeout=PROBE_TIMEOUT_S).git_version
    except Exception as exc:  # the client raises ApiException, urllib3 and socket errors alike
        if status_of(exc) is None:
            return "", f"the Kubernetes API at {host} is not reachable: {api_message(exc)}"
        return "", f"the Kubernetes API at {host} answered /version with HTTP {status_of(exc)}: {api_message(exc)}"
    try:
        missing = check_access(api_client, namespace)
    except Exception as exc:  # reported, with its HTTP status
        return "", f"cannot check permissions in namespace {namespace} (HTTP {status_of(exc)}): {api_message(exc)}"
    if missing:
        return "", f"not allowed in namespace {namespace}: {', '.join(missing)} (grant them with a Role)"
    return str(version), None


def diagnose(api_client: Any = None, namespace: str | None = None) -> tuple[bool, str]:
    """(usable, why) for `csvanalyst doctor`: SDK, configuration, reachability, permissions, settings.

    Never raises: whatever goes wrong becomes the reason."""
    try:
        return _diagnose(api_client, namespace)
    except EnvironmentProblem as exc:
        return False, f"{exc.message} {exc.hint}".strip()
    except Exception as exc:  # doctor must report, not crash; the text says what failed
        from csvanalyst.executors.kubernetes.errors import api_message

        return False, f"unexpected failure while checking the cluster: {type(exc).__name__}: {api_message(exc)}"


def _diagnose(api_client: Any, namespace: str | None) -> tuple[bool, str]:
    from csvanalyst.config import get_settings

    import_sdk()

    settings = get_settings()
    implied = None
    if api_client is None:
        connection = connect(settings.k8s_context)
        api_client, implied = connection.api_client, connection.namespace
    namespace = namespace or settings.k8s_namespace or implied or "default"
    host = host_of(api_client)
    version, problem = probe_cluster(api_client, namespace)
    if problem is not None:
        return False, problem
    if not settings.k8s_datasets_pvc:
        return False, f"cluster {host} ({version}) reachable, but CSVANALYST_K8S_DATASETS_PVC is not set"
    return True, f"cluster {host} ({version}), namespace {namespace}, datasets claim {settings.k8s_datasets_pvc}"
