"""Loading configs: YAML files (with ``base:`` inheritance) plus dotted overrides.

``load_config(cls, path, overrides)`` reads, merges and validates into one job config
model; unknown keys and wrong types fail with the file and the dotted key named.
``save_config`` writes the resolved config next to an output (a path or a URI).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


CONFIG_FILENAME = "rayqa_config.yaml"


class ConfigError(ValueError):
    """A config file or override is invalid; the message names the file and the key."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


class DataFile(Section):
    """One data file and, where the file does not say it, its language."""

    path: str
    lang: str | None = None


def as_data_files(value):
    """Accept plain paths as shorthand for ``{"path": ...}``."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [{"path": v} if isinstance(v, str) else v for v in value]
    return value


ConfigT = TypeVar("ConfigT", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``3e-5`` as a float (YAML 1.1 wants ``3.0e-5``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str):
    """Parse YAML text with rayqa's float rule."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def apply_override(tree: dict, override: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as YAML."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {override!r}: expected dotted.key=value")
    parts = key.strip().split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {override!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = parse_yaml(raw) if raw.strip() else ""


def _format_errors(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<root>"
        lines.append(f"{source}: {key}: {e['msg']}")
    return "\n".join(lines)


def build_config(cls: type[ConfigT], tree: dict, source: str = "<config>") -> ConfigT:
    """Validate a plain dict into ``cls``; errors name ``source`` and every bad key."""
    try:
        return cls.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None


def load_config(cls: type[ConfigT], path: str | Path | None = None,
                overrides: list[str] | None = None, defaults: dict | None = None) -> ConfigT:
    """Load ``path`` (YAML) over ``defaults``, apply dotted overrides, validate.

    Args:
        cls: the job config model.
        path: YAML file; ``None`` uses ``defaults`` only.
        overrides: ``["train.lr=3e-5", ...]``, applied after the file.
        defaults: a dict the file is merged over (e.g. embedded demo defaults).
    """
    tree = _deep_merge(defaults or {}, _read_yaml(path) if path else {})
    for override in overrides or []:
        apply_override(tree, override)
    source = str(path) if path else "<defaults>"
    if overrides:
        source += " (with overrides " + " ".join(overrides) + ")"
    return build_config(cls, tree, source)


BASE_KEY = "base"  # a config file may extend another: `base: baseline.yaml`


def _read_yaml(path: str | Path, seen: tuple[Path, ...] = ()) -> dict:
    """The file's tree, merged over the file its ``base`` key names (relative to it)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    if path.resolve() in seen:
        raise ConfigError(f"{path}: base configs form a cycle")
    try:
        tree = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(tree).__name__}")
    base = tree.pop(BASE_KEY, None)
    if base is None:
        return tree
    if not isinstance(base, str):
        raise ConfigError(f"{path}: {BASE_KEY} must be a file name, got {base!r}")
    return _deep_merge(_read_yaml(path.parent / base, (*seen, path.resolve())), tree)


def _deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def save_config(cfg: BaseModel, directory: str | Path) -> str:
    """Write the resolved config as ``rayqa_config.yaml`` into ``directory`` (path or URI)."""
    from rayqa import storage  # pyarrow, only when a config is saved: configs load light

    location = storage.join(directory, CONFIG_FILENAME)
    storage.write_text(location, yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False,
                                                allow_unicode=True))
    return location
