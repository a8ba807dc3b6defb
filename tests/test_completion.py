"""Shell completion: Typer's scripts, plus paper ids and taxonomy ids from the tracker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import Result
from lmdev.cli.app import run


@pytest.fixture
def lmdev(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run lmdev in-process as a shell's completion would: with its variables set, in ``cwd``
    (the script's own start-up is covered by the installed-wheel test)."""

    def invoke(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            if cwd is not None:
                patch.chdir(cwd)
            capsys.readouterr()
            try:
                code = run(list(args))
            except SystemExit as exc:  # completion answers, then exits like a script
                code = int(exc.code or 0)
            captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script(lmdev, shell: str) -> None:
    result = lmdev("--show-completion", shell)
    assert result.code == 0 and "_LMDEV_COMPLETE" in result.out and f"complete_{shell}" in result.out


def test_commands_options_paper_ids_and_taxonomy_ids_complete(lmdev, data_dir: Path) -> None:
    def complete(words: str) -> list[str]:
        env = {"_LMDEV_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)), "LMDEV_DATA_DIR": str(data_dir)}
        result = lmdev(env=env)
        assert result.code == 0, result.err
        return result.out.split()

    assert "import" in complete("lmdev im")
    assert "--unreviewed" in complete("lmdev list --unre")
    assert complete("lmdev show 2205.1413") == ["2205.14135"]
    assert complete("lmdev list --problem ef") == ["efficiency"]
    assert complete("lmdev tag 2205.14135 --assumption out-of-the-box:c") == ["out-of-the-box:challenges"]
    assert "safety" in complete("lmdev reading-list sa")


def test_accept_reject_show_and_open_complete_the_ids_waiting_in_the_inbox(lmdev, data_dir: Path) -> None:
    from watch_fixtures import fill_inbox, make_item

    fill_inbox(data_dir, make_item("2605.90021"), make_item("2605.90022"))

    def complete(words: str) -> list[str]:
        env = {"_LMDEV_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)), "LMDEV_DATA_DIR": str(data_dir)}
        result = lmdev(env=env)
        assert result.code == 0, result.err
        return result.out.split()

    assert complete("lmdev accept 2605.9002") == ["2605.90021", "2605.90022"]
    assert complete("lmdev reject 2605.90022 2605.9002") == ["2605.90021", "2605.90022"]
    assert complete("lmdev reject 2205.1413") == []  # a stored paper is not waiting
    assert complete("lmdev show 2605.90021") == ["2605.90021"] and complete("lmdev open 2205.1413") == ["2205.14135"]
    assert complete("lmdev tag 2605.9002") == []  # tag needs a stored paper


def test_completion_outside_a_tracker_offers_nothing_and_never_fails(lmdev, tmp_path: Path) -> None:
    env = {"_LMDEV_COMPLETE": "complete_bash", "COMP_WORDS": "lmdev show 22", "COMP_CWORD": "2"}
    result = lmdev(env=env, cwd=tmp_path)
    assert result.code == 0 and result.out.strip() == "" and result.err == ""
