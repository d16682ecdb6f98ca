from typer.testing import CliRunner

from basira import __version__
from basira.cli import app


def test_version_prints_package_version():
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_demo_keeps_review_work_names_the_command_and_how_to_log_in(tmp_path, monkeypatch):
    from basira.review.auth import hash_password
    from basira.review.repository import ReviewRepo
    from basira.store import open_store

    monkeypatch.chdir(tmp_path)
    args = ["demo", "--accounts", "60", "--out", str(tmp_path / "plat"), "--db", str(tmp_path / "demo.db")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    text = " ".join(first.output.split())  # rich wraps long lines
    assert "users add alice --role reviewer" in text and "log in as alice" in text and "/login" in text
    with open_store(f"sqlite:///{tmp_path / 'demo.db'}") as store:
        ReviewRepo(store).add_user("alice", hash_password("a long enough password"), "reviewer")
    again = CliRunner().invoke(app, args)
    text = " ".join(again.output.split())
    assert again.exit_code == 0 and "holds review work (1 users" in text and "--fresh" in text
    with open_store(f"sqlite:///{tmp_path / 'demo.db'}") as store:
        assert ReviewRepo(store).user_by_name("alice") is not None  # not wiped
    fresh = CliRunner().invoke(app, [*args, "--fresh"])
    assert fresh.exit_code == 0 and "--fresh: replacing" in " ".join(fresh.output.split())
    with open_store(f"sqlite:///{tmp_path / 'demo.db'}") as store:
        assert ReviewRepo(store).user_by_name("alice") is None
