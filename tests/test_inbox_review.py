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
