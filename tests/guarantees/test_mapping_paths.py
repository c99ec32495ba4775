"""A mapping path pointed at a secrets file never copies the secret anywhere, and mapping names resolve
only inside the mapping folders. Through the real ``pmsync sync``, ``runs --json`` and ``doctor``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pmsync.connectors.finance.mapping import FinanceMapping

from pmsync.cli import cli
from pmsync.config import shipped_mappings_dir
from pmsync.errors import MappingError
from pmsync.mapping import load_mapping

from .helpers import write_yaml

SECRET = "ghp_Zq8mXw2Lr5Tn7Vb1Kc4Hy6Jd9Fs3Ga0PeQuItE"
SECRET_FILES = {
    "token.txt": f"{SECRET}\n",
    "secrets.env": f"JIRA_TOKEN={SECRET}\nDB_PASSWORD={SECRET}\n",
    "credentials.yaml": f"client_secret: {SECRET}\npassword: {SECRET}\n",
    "key.pem": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n{SECRET}\n-----END PRIVATE KEY-----\n",
    "list.yaml": f"- {SECRET}\n- {SECRET[:20]}\n",
}


@pytest.mark.parametrize("name", sorted(SECRET_FILES))
def test_a_mapping_path_at_a_secrets_file_never_echoes_it(tmp_path: Path, name: str) -> None:
    secret_file = tmp_path / "private" / name
    secret_file.parent.mkdir()
    secret_file.write_text(SECRET_FILES[name], encoding="utf-8")
    (tmp_path / "exports").mkdir()
    config = write_yaml(
        tmp_path,
        f"sqlite:///{tmp_path / 'pmsync.db'}",
        {"name": "finance", "type": "finance_file", "path": "exports", "mapping": str(secret_file)},
    )
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, ["--config", str(config), *args])
        for args in (["sync"], ["runs", "--json"], ["doctor"])
    ]
    sync, runs, doctor = outputs
    assert sync.exit_code != 0 and str(secret_file) in sync.output  # the error names the file...
    assert (
        "not a mapping file" in sync.output or "unknown key" in sync.output or "Input should" in sync.output
    )
    for result in outputs:
        assert SECRET not in result.output and SECRET[:12] not in result.output  # ...never its content
    assert '"error"' in runs.output and doctor.exit_code == 1
    assert SECRET[:12].encode() not in (tmp_path / "pmsync.db").read_bytes()


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd",
        "../pmsync.yaml",
        "sub/../../x.yaml",
        "finance-oracle-ebs.yaml/../../config.py",
    ],
)
def test_a_mapping_name_cannot_leave_the_mapping_folders(tmp_path: Path, name: str) -> None:
    for folders in ([shipped_mappings_dir()], [tmp_path / "mine", shipped_mappings_dir()]):
        (tmp_path / "mine").mkdir(exist_ok=True)
        with pytest.raises(MappingError, match="leads outside the mappings folder"):
            load_mapping(name, FinanceMapping, folders)
    # names inside the folders still resolve, and an absolute path is the user's explicit choice
    assert load_mapping("finance-oracle-ebs.yaml", FinanceMapping, [shipped_mappings_dir()])
    absolute = str(shipped_mappings_dir() / "finance-oracle-ebs.yaml")
    assert load_mapping(absolute, FinanceMapping, [tmp_path])


@pytest.mark.parametrize("name", ["token.txt", "secrets.env"])
def test_a_data_path_at_a_secrets_file_never_echoes_it(tmp_path: Path, name: str) -> None:
    secret_file = tmp_path / "private" / name
    secret_file.parent.mkdir()
    secret_file.write_text(SECRET_FILES[name], encoding="utf-8")
    source = {"name": "finance", "type": "finance_file", "path": str(secret_file)}
    source["mapping"] = "finance-oracle-ebs.yaml"
    config = write_yaml(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", source)
    runner = CliRunner()
    sync, runs, doctor = (
        runner.invoke(cli, ["--config", str(config), *args])
        for args in (["sync"], ["runs", "--json"], ["doctor"])
    )
    assert sync.exit_code == 1 and "no row names any of them (is it an export?)" in sync.output
    for result in (sync, runs, doctor):
        assert SECRET[:12] not in result.output
