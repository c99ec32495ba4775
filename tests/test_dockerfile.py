"""The container image the README's Kubernetes example runs is the one the Dockerfile builds: slim
Python base, unprivileged user, pmsync's extras chosen by a build argument. (No container engine runs
in the test environment, so the Dockerfile is checked as text against the repository and the README.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def instructions(name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.+)$", DOCKERFILE, re.M)]


def test_slim_python_base_and_a_non_root_user() -> None:
    [base] = instructions("FROM")
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim", base)
    [version] = [a for a in instructions("ARG") if a.startswith("PYTHON_VERSION=")]
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == ">=" + version.split("=", 1)[1]
    [user] = instructions("USER")
    assert (
        user not in ("root", "0") and f"useradd --create-home --uid 10001 --user-group {user}" in DOCKERFILE
    )


def test_extras_are_a_build_argument_that_names_real_extras() -> None:
    [extras] = [a for a in instructions("ARG") if a.startswith("EXTRAS=")]
    default = extras.split("=", 1)[1].split(",")
    known = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(default) <= set(known)
    assert 'pip install --no-cache-dir ".[${EXTRAS}]"' in DOCKERFILE
    for copied in instructions("COPY"):
        for source in copied.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_the_kubernetes_example_runs_the_image_the_readme_builds() -> None:
    built = re.findall(r"^docker build .* -t (\S+) \.$", README, re.M)
    used = re.findall(r"^\s+image: (\S+)$", README, re.M)
    assert built and used and set(used) <= set(built)
    assert '"--config", "/etc/pmsync/pmsync.yaml"' in README and "mountPath: /etc/pmsync" in README


def test_the_pdf_image_prints_with_chromium_the_default_engine_finds() -> None:
    """With the pdf extra the container's default PDF is the fast one: Chromium's headless shell is
    installed (under a name ``pdf_engine: auto`` looks for) and told to run without its own sandbox,
    which a container's default seccomp profile does not allow it to start."""
    from pmsync.report.writers.chromium import BROWSER_NAMES, NO_SANDBOX

    [pdf_packages] = re.findall(r"\*,pdf,\*\) packages=\"\$packages ([^\"]+)\"", DOCKERFILE)
    assert "chromium-headless-shell" in pdf_packages.split() and "chromium-headless-shell" in BROWSER_NAMES
    assert "libpango-1.0-0" in pdf_packages.split(), "WeasyPrint stays the fallback"
    [env] = instructions("ENV")
    assert f"{NO_SANDBOX}=1" in DOCKERFILE and env
