"""Connecting to Ray the same way from jobs, the CLI and the demo."""

from __future__ import annotations

import os


def init_ray(num_cpus: int | None = None):
    """Join the cluster a job was submitted to, or start a local Ray.

    Under ``ray job submit`` (or with ``RAY_ADDRESS`` set) ``ray.init()`` connects to
    that cluster; otherwise it starts a fresh local instance without the dashboard,
    even when some other Ray is running on the machine.
    """
    import ray

    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    if os.environ.get("RAY_ADDRESS") or os.environ.get("RAY_JOB_ID"):
        ray.init()
    else:
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False)
    return ray


def load_job_config(cls, argv=None, description: str | None = None):
    """Parse ``--config FILE [dotted.key=value ...]`` and load it into ``cls``.

    The shared command line of every ``jobs/*.py`` entry point and ``rayqa`` job
    subcommand, so all of them accept the same overrides.
    """
    import argparse

    from rayqa.config import load_config

    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="job YAML (see configs/)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. train.lr=3e-5")
    args = parser.parse_args(argv)
    return load_config(cls, args.config, args.overrides)
