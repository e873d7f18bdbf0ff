"""Connecting to Ray the same way from jobs, the CLI and the demo."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from typing import TypeVar

from rayqa.config import load_config

T = TypeVar("T")

# Worker settings that keep library chatter out of job logs. A value already in the
# environment (the shell's, or the job's runtime_env under `ray job submit`) wins, so
# `TRANSFORMERS_VERBOSITY=warning python jobs/train.py ...` brings the load reports back.
QUIET_WORKER_ENV = {
    # transformers' per-worker load reports and tied-weight notes for heads a job adds
    # or drops on purpose (QA head on a base model, MLM head on a reader); errors stay.
    "TRANSFORMERS_VERBOSITY": "error",
}

# Ray Train V2 both prints a worker's print() and logs it again, so every progress
# line came out twice; Ray Train forwards this variable to its controller and workers.
TRAIN_PRINT_PATCH_ENV = "RAY_TRAIN_ENABLE_PRINT_PATCH"

# Ray Train's placement-group cleaner polls the State API, which is served by the
# dashboard; a local Ray here runs without one, so the cleaner warned once a second for
# the whole run. A local cluster ends with its driver anyway, which is the only case
# the cleaner exists for.
LOCAL_QUIET_LOGGERS = ("ray.train.v2._internal.execution.controller.placement_group_cleaner",)


def init_ray(num_cpus: int | None = None):
    """Join the cluster a job was submitted to, or start a local Ray.

    Under ``ray job submit`` (or with ``RAY_ADDRESS`` set) ``ray.init()`` connects to
    that cluster; otherwise it starts a fresh local instance without the dashboard,
    even when some other Ray is running on the machine. Either way workers get
    ``QUIET_WORKER_ENV`` (unless the environment sets those variables already), and
    a local instance also silences the warnings that only a missing dashboard causes.

    Args:
        num_cpus: CPUs of a local instance (default: all); ignored on a cluster.

    Returns:
        The ``ray`` module, initialized.
    """
    import ray

    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    os.environ.setdefault(TRAIN_PRINT_PATCH_ENV, "0")
    env_vars = {key: value for key, value in QUIET_WORKER_ENV.items() if key not in os.environ}
    if os.environ.get("RAY_ADDRESS") or os.environ.get("RAY_JOB_ID"):
        # Merged with a submitted job's runtime_env; keys it sets were skipped above.
        ray.init(runtime_env={"env_vars": env_vars} if env_vars else None)
    else:
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                 runtime_env={"env_vars": env_vars,
                              "worker_process_setup_hook": "rayqa.runtime.quiet_local_workers"})
    return ray


def quiet_local_workers() -> None:
    """Raise ``LOCAL_QUIET_LOGGERS`` to ERROR; a local Ray's ``worker_process_setup_hook``.

    Ray runs it in every worker process of the job before the process's first task.
    """
    for name in LOCAL_QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def load_job_config(cls, argv=None, description: str | None = None, prog: str | None = None):
    """Parse ``--config FILE [dotted.key=value ...]`` and load it into ``cls``.

    The shared command line of every ``jobs/*.py`` entry point and ``rayqa`` job
    subcommand, so all of them accept the same overrides.

    Args:
        cls: The job's config class.
        argv: The arguments (default: ``sys.argv[1:]``).
        description: Text of ``--help``.
        prog: Program name in usage and error messages.

    Returns:
        The validated config.

    Raises:
        ConfigError: The file or an override does not validate (file and key named).
    """
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="job YAML (see configs/)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. train.lr=3e-5")
    args = parser.parse_args(argv)
    return load_config(cls, args.config, args.overrides)


def run_unwrapping(execute: Callable[[], T], *causes: type[BaseException]) -> T:
    """``execute()``, a Ray Data execution; a task failure caused by one of ``causes``
    (e.g. a strict-mode ``DataError`` naming file and line) leaves as that cause, unwrapped.

    The failed execution's actors are released first. Ray's wrapped error holds the
    frames of the execution, and through them its actor pool: while anything kept that
    error (a caller's ``except`` block, a test's ``pytest.raises``), the pool's CPUs
    stayed taken, and the next job that needed them (a Ray Train fit) waited for them
    forever. So the wrapped error is dropped, its frames collected, and only the cause
    is raised. ``execute`` should build the dataset itself (not close over one), so
    that nothing else keeps it. Other task failures propagate as Ray raised them.
    """
    import ray

    try:
        return execute()
    except ray.exceptions.RayTaskError as err:
        if not isinstance(err.cause, causes):
            raise
        failure = err.cause.with_traceback(None)
        failure.__context__ = failure.__cause__ = None
    gc.collect()  # the execution's frames and actor handles form cycles
    raise failure
