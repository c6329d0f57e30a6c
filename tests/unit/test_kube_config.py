"""How the kubernetes sandbox finds its cluster inside a pod: the service account's token, CA and namespace.

Not a live cluster: the files a kubelet projects into a pod are written to a temporary directory and the client
library's own in-cluster loader reads them from there."""

from __future__ import annotations

from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")

from csvanalyst.errors import EnvironmentProblem  # noqa: E402
from csvanalyst.executors.kubernetes import config as kubernetes_config  # noqa: E402


@pytest.fixture
def pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pod's view: the service variables and the projected service-account files."""
    from kubernetes.config import incluster_config

    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token-123")
    (account / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (account / "namespace").write_text("analytics\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "ignored-in-a-pod"))
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(account / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(account / "ca.crt"))
    monkeypatch.setattr(kubernetes_config, "SERVICE_ACCOUNT_NAMESPACE", account / "namespace")
    return account


def test_in_a_pod_the_service_account_is_used_not_a_kubeconfig(pod: Path) -> None:
    connection = kubernetes_config.connect()
    configuration = connection.api_client.configuration
    assert connection.host == "https://10.96.0.1:443" == configuration.host
    assert configuration.auth_settings()["BearerToken"]["value"].lower() == "bearer pod-token-123"
    assert configuration.ssl_ca_cert == str(pod / "ca.crt")
    assert connection.namespace == "analytics"


def test_in_a_pod_without_its_token_the_error_says_so(pod: Path) -> None:
    (pod / "token").unlink()
    with pytest.raises(EnvironmentProblem) as caught:
        kubernetes_config.connect()
    assert "service account" in caught.value.message


def test_the_executor_takes_the_pods_namespace(pod: Path, tmp_path: Path) -> None:
    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor

    executor = KubernetesExecutor(datasets_pvc="datasets", datasets_root=str(tmp_path), image="runner:t")
    assert executor.namespace == "analytics" and executor.host == "https://10.96.0.1:443"


def test_without_the_kubernetes_client_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from csvanalyst.executors.base import load

    monkeypatch.setitem(sys.modules, "kubernetes", None)  # makes `import kubernetes` raise ImportError
    with pytest.raises(EnvironmentProblem) as caught:
        load("kubernetes")
    assert "Kubernetes client" in caught.value.message and "pip install" in caught.value.hint
    ok, reason = kubernetes_config.diagnose()
    assert ok is False and "pip install" in reason
