"""`csvanalyst runner build|build-rootfs|check|cleanup`: the sandbox images and leftovers."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="The docker sandbox's runner image: build it, check it, clean up after it.", no_args_is_help=True
)


@app.command("build")
def build() -> None:
    """Build the runner image offline (Debian base via debootstrap, wheels via pip download)."""
    from csvanalyst.executors.docker import image as docker_image
    from csvanalyst.executors.docker.executor import connect

    client = connect()
    report = docker_image.build(client, lambda msg: typer.echo(f"… {msg}", err=True))
    typer.echo(
        f"built {report['tag']} in {report['total_s']} s "
        f"(base {report['base_s']} s, wheels {report['wheels_s']} s, image {report['image_s']} s)"
    )


@app.command("build-rootfs")
def build_rootfs() -> None:
    """Build the microsandbox microVM's root filesystem (the runner image's contents, no Docker needed)."""
    from csvanalyst.executors.microsandbox.rootfs import build_rootfs as build_it

    typer.echo(str(build_it(lambda msg: typer.echo(f"… {msg}", err=True))))


@app.command("check")
def check(
    image: Annotated[str | None, typer.Option("--image", help="Image to check (default: the current one).")] = None,
) -> None:
    """Run a known query in the image and verify the answer and the hardening."""
    from csvanalyst.executors.docker.check import check as run_checks
    from csvanalyst.executors.docker.executor import DockerExecutor

    executor = DockerExecutor(image=image)
    report_checks(
        run_checks(executor),
        f"The runner image {executor.image}",
        "Rebuild it with `csvanalyst runner build`; if it still fails, the Docker daemon's "
        "configuration weakens the sandbox.",
    )
    typer.echo(f"{executor.image}: all checks passed")


def report_checks(results: list[tuple[str, bool, str]], subject: str, hint: str) -> None:
    """One line per check; any failure is a QueryFailedError naming them (shared with `deploy check`)."""
    from csvanalyst.errors import QueryFailedError

    for what, passed, detail in results:
        typer.echo(f"{'ok  ' if passed else 'FAIL'} {what} ({detail})")
    failed = [what for what, passed, _ in results if not passed]
    if failed:
        raise QueryFailedError(f"{subject} failed {len(failed)} check(s): {', '.join(failed)}.", hint=hint)


@app.command("cleanup")
def cleanup(
    sandbox: Annotated[
        str,
        typer.Option(
            "--sandbox", help="Whose leftovers: docker containers, kubernetes runner Jobs or microsandbox VMs."
        ),
    ] = "docker",
    namespace: Annotated[str | None, typer.Option("--namespace", help="Kubernetes namespace (kubernetes).")] = None,
) -> None:
    """Remove runner containers or Jobs this program left behind (e.g. after a crash); docker: this home's only."""
    from csvanalyst.errors import UsageError

    if sandbox == "kubernetes":
        from csvanalyst.executors.kubernetes.executor import cleanup as delete_jobs

        typer.echo(f"deleted {delete_jobs(namespace)} runner Job(s)")
        return
    if sandbox == "microsandbox":
        from csvanalyst.executors.microsandbox.executor import cleanup as remove_vms

        typer.echo(f"removed {remove_vms()} microVM(s)")
        return
    if sandbox != "docker":
        raise UsageError(
            f"Nothing to clean up for sandbox {sandbox!r}.", hint="Use --sandbox docker, kubernetes or microsandbox."
        )
    from csvanalyst.executors.docker.executor import cleanup as remove_all
    from csvanalyst.executors.docker.executor import connect

    typer.echo(f"removed {remove_all(connect())} container(s)")
