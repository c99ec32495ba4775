"""Pydantic validation errors as one clear line: the key path, what is wrong, and a "did you mean".

Below every module that validates a section of pmsync.yaml or a mapping (config, oversight,
governance, reports, publish), so that none of them imports another to word its errors.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from pmsync.suggest import did_you_mean

__all__ = ["describe_validation_error", "looks_secret"]


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def describe_validation_error(
    exc: ValidationError, prefix: str = "", model: type[BaseModel] | None = None
) -> str:
    """One line per problem: ``key.path: what is wrong (got: value)``; an unknown key gets a "did you
    mean" from the keys ``model`` (the model validated, at the place of the error) allows there."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _key_path(loc)
        if prefix:
            path = f"{prefix}.{path}" if not path.startswith("[") else prefix + path
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1]) if loc and model is not None else []
            suggestion = did_you_mean(str(loc[-1]), allowed) if loc else ""
            msg = (
                f"unknown key ({suggestion})"
                if suggestion
                else "unknown key (check the spelling; see `pmsync config --schema` for the allowed keys)"
            )
        elif "input" in err and err["type"] != "missing" and not looks_secret(path):
            msg = f"{msg} (got: {err['input']!r})"
        lines.append(f"{path}: {msg}")
    return "; ".join(lines)


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys ``model`` allows at ``loc`` (a validation error's location less its last part)."""
    current: Any = model
    for part in loc:
        current = _model_in(current)
        if current is None:
            return []
        if isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        # an int indexes a list: the item type is unwrapped by _model_in on the next step
    found = _model_in(current)
    if found is None:
        return []
    return [name for name, field in found.model_fields.items() if not field.exclude]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model in ``annotation`` (itself, or inside ``list[...]`` / ``X | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def looks_secret(path: str) -> bool:
    """Whether a key path names a secret (its value is never echoed back, and is redacted in logs)."""
    return any(word in path.lower() for word in ("token", "secret", "password", "key_file", "pat"))
