"""The microVM sandbox without booting: what it asks of the SDK, how it reads a run, what doctor says."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.errors import EnvironmentProblem
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.contract import RUNNER_ARGV, mapped_request, table_mounts, to_result
from csvanalyst.executors.microsandbox import executor as microsandbox
from csvanalyst.executors.microsandbox import host as microsandbox_host
from csvanalyst.executors.microsandbox.options import create_options, exec_options, stage_tables
from csvanalyst.executors.microsandbox.rootfs import IMAGE_ENV

pytest.importorskip("microsandbox", reason="the microsandbox SDK builds the option objects under test")

HOSTILE = "SELECT '\"' || $$x$$ AS q -- $(rm -rf /) `id` ${HOME}\n;\r\n\\0 'é' \t"


def request_for(path: Path, code: str = "SELECT 1", **limits: float) -> RunRequest:
    return RunRequest(code=code, tables={"t": TableSource(path=str(path), format="csv")}, limits=Limits(**limits))


def test_network_is_denied_both_ways() -> None:
    options = create_options("x", Path("/rootfs"), {}, Limits())
    policy = options["network"].policy
    assert (str(policy.default_egress), str(policy.default_ingress), policy.rules) == ("deny", "deny", ())


def test_limits_size_the_vm_and_its_lifetime() -> None:
    options = create_options("x", Path("/rootfs"), {}, Limits(memory_mb=1000, threads=3, timeout_s=10))
    assert (options["memory"], options["max_memory"], options["cpus"], options["max_cpus"]) == (1512, 1512, 3, 3)
    assert 10 < options["max_duration"] <= 10 + microsandbox.BOOT_TIMEOUT_S
    assert options["user"] == "10001" and options["image"] == "/rootfs"


def test_only_the_staged_tables_and_a_tmpfs_are_mounted(tmp_path: Path) -> None:
    options = create_options("x", Path("/rootfs"), {str(tmp_path / "0"): "/data/0"}, Limits())
    volumes = options["volumes"]
    assert set(volumes) == {"/data/0", "/tmp"}
    data = volumes["/data/0"]
    assert (str(data.kind), data.bind, data.readonly) == ("bind", str(tmp_path / "0"), True)
    assert str(volumes["/tmp"].kind) == "tmpfs" and volumes["/tmp"].bind is None


def test_staging_exposes_each_table_file_alone(tmp_path: Path) -> None:
    data = tmp_path / "datasets"
    data.mkdir()
    (data / "mine.csv").write_text("a\n1\n")
    (data / "secret.csv").write_text("s\nhunter2\n")
    staged = stage_tables(table_mounts([TableSource(path=str(data / "mine.csv"), format="csv")]), tmp_path / "stage")
    assert list(staged.values()) == ["/data/0"]
    host_dir = Path(next(iter(staged)))
    assert sorted(p.name for p in host_dir.iterdir()) == ["mine.csv"]
    assert (host_dir / "mine.csv").read_text() == "a\n1\n"


def test_the_request_travels_byte_identical_in_the_environment(tmp_path: Path) -> None:
    request = request_for(tmp_path / "t.csv", code=HOSTILE)
    payload = mapped_request(request).model_dump_json().encode("utf-8")
    cmd, args, keywords = exec_options(None, payload, request.limits)
    assert [cmd, *args] == RUNNER_ARGV  # an argv, never a shell line
    sent = keywords["env"]["CSVANALYST_REQUEST"]
    assert sent.encode("utf-8") == payload and json.loads(sent)["code"] == HOSTILE
    assert json.loads(sent)["tables"]["t"]["path"] == "/data/0/t.csv"


def test_the_environment_holds_exactly_the_allowed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-host-secret")
    _, _, keywords = exec_options(["python3", "-c", "pass"], b"{}", Limits())
    env = keywords["env"]
    assert set(env) == {*IMAGE_ENV, "CSVANALYST_SANDBOX", "CSVANALYST_SCRATCH", "CSVANALYST_REQUEST"}
    assert env["CSVANALYST_SANDBOX"] == "microsandbox" and env["CSVANALYST_SCRATCH"] == "/tmp/spill"
    assert not any("secret" in value for value in env.values())
    assert keywords["user"] == "10001" and keywords["timeout"] > Limits().timeout_s


def test_no_payload_means_no_request_variable() -> None:
    _, _, keywords = exec_options(["python3", "-c", "pass"], b"", Limits())
    assert "CSVANALYST_REQUEST" not in keywords["env"]


def test_diagnose_names_a_missing_kvm_device(tmp_path: Path) -> None:
    usable, reason = microsandbox.diagnose(rootfs=tmp_path, device=str(tmp_path / "kvm"))
    assert not usable and f"{tmp_path / 'kvm'} does not exist" in reason and "nested virtualisation" in reason


def test_diagnose_names_a_device_that_is_not_kvm(tmp_path: Path) -> None:
    usable, reason = microsandbox.diagnose(rootfs=tmp_path, device="/dev/null")
    assert not usable and "KVM_GET_API_VERSION" in reason


def test_diagnose_names_a_missing_sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "microsandbox", None)  # makes `import microsandbox` raise ImportError
    usable, reason = microsandbox.diagnose(rootfs=tmp_path)
    assert not usable and "SDK is not installed" in reason and "pip install 'csvanalyst[microsandbox]'" in reason


def kvm_usable() -> str | None:
    try:
        microsandbox_host.check_kvm()
    except microsandbox_host.HostProblem as problem:
        return problem.reason
    return None


def test_a_missing_rootfs_is_an_environment_problem_saying_how_to_build(tmp_path: Path) -> None:
    reason = kvm_usable()
    if reason is not None:
        pytest.skip(f"the rootfs check comes after KVM's, which fails here: {reason}")
    with pytest.raises(EnvironmentProblem) as caught:
        microsandbox.MicrosandboxExecutor(rootfs=tmp_path / "nothing")
    assert "not built" in caught.value.message and "build_rootfs" in caught.value.hint
    assert caught.value.exit_code == 6


@pytest.mark.parametrize(
    ("flags", "pvm", "expected"),
    [("fpu vmx sse", False, None), ("fpu sse", True, "kvm-pvm"), ("fpu sse", False, "no VT-x/AMD-V")],
)
def test_cpu_virtualisation(tmp_path: Path, flags: str, pvm: bool, expected: str | None) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    module = tmp_path / "kvm_pvm"
    if pvm:
        module.mkdir()
    found = microsandbox_host.cpu_virtualisation(str(cpuinfo), str(module))
    assert found is None if expected is None else expected in found


class Event:
    def __init__(self, kind: str, data: bytes | None = None, code: int | None = None) -> None:
        self.event_type, self.data, self.code = kind, data, code


class ScriptedExec:
    """Stands in for an ExecHandle: yields the given events, then blocks like a process that never ends."""

    def __init__(self, events: list[Event], *, then_hang: bool = False) -> None:
        self.events, self.then_hang, self.killed = list(events), then_hang, False

    async def recv(self) -> Event | None:
        if self.events:
            return self.events.pop(0)
        if self.then_hang:
            await asyncio.sleep(3600)
        return None

    async def kill(self) -> None:
        self.killed = True


class ScriptedSandbox:
    def __init__(self, handle: ScriptedExec) -> None:
        self.handle, self.calls = handle, []

    async def exec_stream(self, cmd: str, args: list[str], **keywords: object) -> ScriptedExec:
        self.calls.append((cmd, args, keywords))
        return self.handle


def collect(handle: ScriptedExec, **limits: float):
    sandbox = ScriptedSandbox(handle)
    return asyncio.run(microsandbox.collect(sandbox, None, b"{}", Limits(**limits), None))


def test_output_and_exit_code_are_collected() -> None:
    outcome = collect(ScriptedExec([Event("started"), Event("stdout", b'{"status"'), Event("exited", code=0)]))
    assert (outcome.returncode, outcome.stdout, outcome.timed_out) == (0, b'{"status"', False)


def test_a_guest_sigkill_maps_to_oom_like_local_and_docker() -> None:
    outcome = collect(ScriptedExec([Event("stderr", b"Killed"), Event("exited", code=137)]))
    assert outcome.returncode == -9 and to_result(outcome, RunRequest(code="", tables={})).status == "oom"


def test_stdout_past_the_cap_is_an_overflow_and_the_process_is_killed() -> None:
    handle = ScriptedExec([Event("stdout", b"x" * 200_000)], then_hang=True)
    outcome = collect(handle, max_output_bytes=1000)
    assert outcome.overflow and handle.killed and outcome.returncode is None


def test_the_deadline_kills_a_run_that_never_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(microsandbox, "KILL_GRACE_S", 0.0)
    handle = ScriptedExec([], then_hang=True)
    outcome = collect(handle, timeout_s=0.3)
    assert outcome.timed_out and handle.killed
    assert to_result(outcome, RunRequest(code="", tables={})).status == "timeout"


def test_coroutines_run_from_inside_a_running_loop() -> None:
    async def inner() -> int:
        return 7

    async def outer() -> int:
        return microsandbox.run_coroutine(inner)  # a caller that already has a loop, e.g. an async server

    assert asyncio.run(outer()) == 7
    assert microsandbox.run_coroutine(inner) == 7


class BrokenExec(ScriptedExec):
    async def recv(self) -> Event | None:
        raise RuntimeError("agent connection reset")


def test_a_broken_exec_stream_is_a_sandbox_error_naming_the_cause() -> None:
    outcome = collect(BrokenExec([]))
    result = to_result(outcome, RunRequest(code="", tables={}))
    assert outcome.returncode is None and b"agent connection reset" in outcome.stderr
    assert result.status == "sandbox_error" and "agent connection reset" in result.error.message  # type: ignore[union-attr]


def test_microsandbox_honours_cancel_and_reports_readiness_from_its_host_checks(tmp_path: Path) -> None:
    handle = ScriptedExec([], then_hang=True)
    cancel = threading.Event()
    cancel.set()
    outcome = asyncio.run(microsandbox.collect(ScriptedSandbox(handle), None, b"{}", Limits(timeout_s=60), cancel))
    assert outcome.cancelled and handle.killed and not outcome.timed_out
    result = to_result(outcome, RunRequest(code="", tables={}))
    assert result.status == "error" and result.error is not None and result.error.code == "cancelled"

    unbuilt = microsandbox.MicrosandboxExecutor.__new__(microsandbox.MicrosandboxExecutor)  # __init__ refuses here
    unbuilt.rootfs = tmp_path / "no-rootfs"
    usable, detail = microsandbox.diagnose(unbuilt.rootfs)
    assert not usable and unbuilt.ready() == detail
