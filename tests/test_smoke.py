from click.testing import CliRunner

from pmsync.cli import cli


def test_init_writes_a_config_that_loads(tmp_path):
    path = tmp_path / "pmsync.yaml"
    result = CliRunner().invoke(cli, ["--config", str(path), "init"])
    assert result.exit_code == 0, result.output
    assert "sources:" in path.read_text()
