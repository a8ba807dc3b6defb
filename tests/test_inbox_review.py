"""The inbox review session: one key per paper, driven here by a scripted terminal."""

from __future__ import annotations

from pathlib import Path

import yaml

from lmdev import decisions
from lmdev.cli.inbox_review import Terminal, review_inbox_session
from lmdev.store import Library
from watch_fixtures import fill_inbox, make_item


class Script:
    """A terminal that presses the given keys and answers the given lines, in order."""

    def __init__(self, keys: str, lines: list[str] = ()) -> None:  # type: ignore[assignment]
        self.keys = list(keys)
        self.lines = list(lines)
        self.said: list[str] = []
        self.opened: list[str] = []

    def terminal(self) -> Terminal:
        return Terminal(getchar=lambda: self.keys.pop(0), ask=self.ask, echo=self.said.append, open_url=self.opened.append)

    def ask(self, text: str, default: str) -> str:
        self.said.append(f"{text} [{default}]")
        answer = self.lines.pop(0)
        return answer or default


def ranked_inbox(data: Path) -> None:
    fill_inbox(
        data,
        make_item("2605.90001", relevance=0.9, problems=[("efficiency", 0.9)]),
        make_item("2605.90002", relevance=0.8),
        make_item("2605.90003", relevance=0.7),
        make_item("2605.90004", relevance=0.6),
    )


def test_keys_decide_best_first_and_q_ends_the_session(data_dir: Path) -> None:
    ranked_inbox(data_dir)
    script = Script("xAorsq", ["off topic"])
    decided = review_inbox_session(Library(data_dir), term=script.terminal())
    assert decided == 2
    assert (data_dir / "papers" / "2605.90001.yaml").exists()
    assert script.opened == ["https://arxiv.org/abs/2605.90002"]
    assert {e.rejection.id: e.rejection.reason for e in decisions.load(data_dir)}["2605.90002"] == "off topic"
    assert any("press one of" in line for line in script.said)
    assert {p.stem for p in (data_dir / "inbox").glob("*.yaml")} == {"2605.90003", "2605.90004"}
    assert "review: 1 accepted, 1 rejected, 1 skipped; 2 waiting" in script.said[-1]


def test_edit_asks_again_until_the_tags_are_valid(data_dir: Path) -> None:
    ranked_inbox(data_dir)
    script = Script("eq", ["speed", "safety alignment", "fixed-recipe:loves", ""])
    review_inbox_session(Library(data_dir), term=script.terminal())
    paper = yaml.safe_load((data_dir / "papers" / "2605.90001.yaml").read_text())
    assert paper["primary"] == "safety" and [p["id"] for p in paper["problems"]] == ["safety", "alignment"]
    assert paper["assumptions"] == [{"id": "out-of-the-box", "stance": "relies", "by": "person"}]
    assert any("unknown problem id 'speed'" in line for line in script.said)
    assert any("unknown stance" in line for line in script.said)


def test_filters_and_an_empty_inbox(data_dir: Path) -> None:
    script = Script("")
    assert review_inbox_session(Library(data_dir), term=script.terminal()) == 0
    assert script.said == ["the inbox is empty"]
    ranked_inbox(data_dir)
    script = Script("a")
    assert review_inbox_session(Library(data_dir), problem="efficiency", term=script.terminal()) == 1
    assert (data_dir / "papers" / "2605.90001.yaml").exists()


def test_ctrl_c_ends_the_session_with_its_summary_and_every_decision_kept(data_dir: Path) -> None:
    import pytest

    ranked_inbox(data_dir)
    script = Script("a")  # then the keys run out: the person pressed Ctrl-C

    def getchar() -> str:
        if not script.keys:
            raise KeyboardInterrupt
        return script.keys.pop(0)

    term = Terminal(getchar=getchar, ask=script.ask, echo=script.said.append, open_url=script.opened.append)
    with pytest.raises(KeyboardInterrupt):
        review_inbox_session(Library(data_dir), term=term)
    assert (data_dir / "papers" / "2605.90001.yaml").exists()
    assert "review: 1 accepted, 0 rejected, 0 skipped; 3 waiting" in script.said[-1]


def test_a_long_abstract_wraps_under_its_indent_on_a_narrow_terminal(data_dir: Path, monkeypatch) -> None:
    import io

    from rich.console import Console

    import lmdev.cli.inbox_review as session

    words = " ".join(f"word{n}" for n in range(60))
    fill_inbox(data_dir, make_item("2605.90001", abstract=f"Opening {words} closing."))
    screen = io.StringIO()
    monkeypatch.setattr(session, "out", lambda: Console(file=screen, width=60, no_color=True, highlight=False))
    review_inbox_session(Library(data_dir), term=Script("q").terminal())
    text = screen.getvalue().splitlines()
    first = next(i for i, line in enumerate(text) if "Opening" in line)
    last = next(i for i, line in enumerate(text) if "closing." in line)
    assert last > first + 2, "the abstract wraps over several lines"
    assert all(line.startswith("  ") and len(line) <= 60 for line in text[first : last + 1])


def test_a_default_from_an_inbox_file_is_shown_escaped_and_an_unknown_id_is_not_offered(data_dir: Path, monkeypatch) -> None:
    """An inbox file may hold anything: its suggestions reach the prompt as text, never as a
    terminal's escape sequence, and an id the taxonomy lacks (a renamed node) is not offered."""
    import builtins

    from lmdev.cli.inbox_review import _line

    shown: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda prompt: shown.append(prompt) or "")
    assert _line("  problems", "reasoning\x1b[31m") == "reasoning\x1b[31m"
    assert "\x1b" not in shown[0] and "\\x1b[31m" in shown[0]

    fill_inbox(data_dir, make_item("2605.90001", problems=[("reasoning\x1b[31m", 0.9), ("efficiency", 0.5)]))
    script = Script("eq", ["", ""])
    review_inbox_session(Library(data_dir), term=script.terminal())
    assert "  problems, primary first [efficiency]" in script.said
    assert yaml.safe_load((data_dir / "papers" / "2605.90001.yaml").read_text())["primary"] == "efficiency"


def test_ctrl_d_at_a_line_prompt_ends_the_session_as_q_does(data_dir: Path) -> None:
    from lmdev.cli.inbox_review import Quit

    ranked_inbox(data_dir)
    script = Script("ar")

    def ask(text: str, default: str) -> str:
        raise Quit

    quit_flag = [False]
    term = Terminal(getchar=lambda: script.keys.pop(0), ask=ask, echo=script.said.append, open_url=lambda url: True)
    assert review_inbox_session(Library(data_dir), term=term, quit_flag=quit_flag) == 1
    assert quit_flag == [True] and "2605.90002" not in {e.rejection.id for e in decisions.load(data_dir)}
    assert "review: 1 accepted, 0 rejected, 0 skipped; 3 waiting" in script.said[-1]


def test_open_without_a_browser_says_so_and_gives_the_link(data_dir: Path, capsys) -> None:
    fill_inbox(data_dir, make_item("2605.90001"))
    script = Script("osq")
    term = Terminal(getchar=lambda: script.keys.pop(0), ask=script.ask, echo=script.said.append, open_url=lambda url: False)
    review_inbox_session(Library(data_dir), term=term)
    shown = capsys.readouterr().out
    assert "no browser found" in shown and "https://arxiv.org/abs/2605.90001" in shown and "opened" not in shown


def test_an_unreadable_inbox_file_is_named_not_passed_over(data_dir: Path) -> None:
    ranked_inbox(data_dir)
    (data_dir / "inbox" / "2605.99999.yaml").write_text('id: "2605.99999"\ntitle: [unclosed\n')
    script = Script("q")
    review_inbox_session(Library(data_dir), term=script.terminal())
    assert any(line.startswith("skipped ") and "2605.99999.yaml" in line for line in script.said)


def test_contradictory_stances_are_refused_and_asked_again(data_dir: Path) -> None:
    ranked_inbox(data_dir)
    script = Script("eq", ["", "fixed-recipe:relies fixed-recipe:challenges", "fixed-recipe:challenges"])
    review_inbox_session(Library(data_dir), term=script.terminal())
    assert any("an assumption takes one stance: fixed-recipe (challenges and relies)" in line for line in script.said)
    paper = yaml.safe_load((data_dir / "papers" / "2605.90001.yaml").read_text())
    assert paper["assumptions"] == [{"id": "fixed-recipe", "stance": "challenges", "by": "person"}]
