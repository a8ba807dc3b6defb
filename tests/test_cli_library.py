import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import REPO, snapshot


def test_taxonomy_json_lists_every_node_with_its_id(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "taxonomy", "--format", "json")
    nodes = json.loads(result.out)
    ids = {n["id"]: n["kind"] for n in nodes}
    assert ids["prompting"] == "problem" and ids["more-compute"] == "assumption" and ids["deep-learning"] == "field"
    assert len([n for n in nodes if n["kind"] != "field"]) == 20


def test_taxonomy_tree_shows_fields_and_nodes(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "taxonomy")
    assert result.code == 0
    for text in ("Language model development", "fixed-recipe", "Statistical machine learning", "scaling"):
        assert text in result.out


def test_list_filters_by_problem_assumption_stance_year_and_text(cli, data_dir: Path) -> None:
    def ids(*args: str) -> set[str]:
        result = cli("--data-dir", str(data_dir), "list", "--format", "json", *args)
        assert result.code == 0, result.err
        return {p["id"] for p in json.loads(result.out)}

    efficiency = ids("--problem", "efficiency")
    assert {"2205.14135", "2211.17192", "2208.07339", "2306.14048"} <= efficiency
    assert "2005.14165" not in efficiency
    challengers = ids("--assumption", "out-of-the-box", "--stance", "challenges")
    assert "2205.05638" in challengers and "2005.14165" not in challengers
    assert ids("--problem", "efficiency", "--year", "2023-") == {p for p in efficiency if int(p[:2]) >= 23}
    assert {"2211.17192", "2302.01318"} <= ids("--text", "speculative decoding")
    assert ids("--text", "leviathan") == {"2211.17192"}
    assert ids("--year", "2013") == {"1312.6114"}
    assert ids("--untagged") == set()


def test_text_finds_words_by_their_start_not_inside_other_words(cli, data_dir: Path) -> None:
    """'RL' is reinforcement learning, not the 'rl' of 'world'; 'agent' still finds 'agents'."""
    result = cli("--data-dir", str(data_dir), "list", "--format", "json", "--text", "RL")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert found and all(re.search(r"(?<!\w)rl", " ".join([p["id"], p["title"], p.get("abstract") or "", *p["authors"], p.get("notes") or ""]).lower()) for p in found)
    everyone = json.loads(cli("--data-dir", str(data_dir), "list", "--format", "json").out)
    inside_only = [p["id"] for p in everyone if "rl" in (p["title"] + " " + (p.get("abstract") or "")).lower() and not re.search(r"(?<!\w)rl", (p["title"] + " " + (p.get("abstract") or "") + " " + " ".join(p["authors"]) + " " + (p.get("notes") or "")).lower())]
    assert inside_only and not set(inside_only) & {p["id"] for p in found}
    agents = {p["id"] for p in json.loads(cli("--data-dir", str(data_dir), "list", "--format", "json", "--text", "agent").out)}
    assert any("agents" in p["title"].lower() and "agent " not in p["title"].lower() for p in everyone if p["id"] in agents)


def test_list_rejects_bad_filters_as_usage_errors(cli, data_dir: Path) -> None:
    assert cli("--data-dir", str(data_dir), "list", "--problem", "speed").code == 2
    assert cli("--data-dir", str(data_dir), "list", "--stance", "relies").code == 2
    assert cli("--data-dir", str(data_dir), "list", "--year", "2023-2020").code == 2
    assert cli("--data-dir", str(data_dir), "list", "--format", "yaml").code == 2


def test_show_accepts_any_id_form(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "show", "https://arxiv.org/abs/2205.14135v2", "--format", "json")
    paper = json.loads(result.out)
    assert paper["title"].startswith("FlashAttention") and paper["year"] == 2022
    text = cli("--data-dir", str(data_dir), "show", "arXiv:2205.14135")
    assert "fixed-recipe" in text.out and "relies" in text.out
    missing = cli("--data-dir", str(data_dir), "show", "2401.99999")
    assert missing.code == 1 and "no paper '2401.99999'" in missing.err


def test_the_primary_problem_is_shown_first_and_marked_and_named_on_other_problems_lists(cli, data_dir: Path) -> None:
    run = lambda *args: cli("--data-dir", str(data_dir), *args)  # noqa: E731
    # 2307.03172 is tagged prompting; a second problem made primary stays second in the file
    assert run("tag", "2307.03172", "--problem", "efficiency", "--primary", "efficiency").code == 0
    data = yaml.safe_load((data_dir / "papers" / "2307.03172.yaml").read_text())
    assert [p["id"] for p in data["problems"]] == ["prompting", "efficiency"] and data["primary"] == "efficiency"
    shown = run("show", "2307.03172").out.splitlines()
    problems = shown[shown.index("problems") + 1 : shown.index("assumptions")]
    assert problems[0].split()[:2] == ["efficiency", "primary"] and problems[1].split()[0] == "prompting" and "primary" not in problems[1]
    line = next(x for x in run("list", "--text", "lost in the middle").out.splitlines() if x.startswith("2307.03172\t"))
    assert line.split("\t")[3].startswith("efficiency, prompting;")
    prompting = {e["id"]: e for e in json.loads(run("reading-list", "prompting", "--format", "json").out)}
    efficiency = {e["id"]: e for e in json.loads(run("reading-list", "efficiency", "--format", "json").out)}
    assert prompting["2307.03172"]["primary"] == "efficiency" and prompting["2307.03172"]["reason"].endswith("(primary problem: efficiency)")
    assert "primary problem" not in efficiency["2307.03172"]["reason"]
    assert "(primary problem: efficiency)" in run("reading-list", "prompting").out
    # --primary keeps the papers that attack a problem above all
    raw = [yaml.safe_load(p.read_text()) for p in (data_dir / "papers").glob("*.yaml") if "primary: efficiency" in p.read_text()]
    head_on = {p["id"] for p in raw if p.get("primary") == "efficiency"}
    listed = {p["id"] for p in json.loads(run("list", "--primary", "efficiency", "--format", "json").out)}
    assert listed == head_on and "2307.03172" in listed and len(listed) < len(efficiency)
    assert {r.split(",")[0] for r in run("export", "--format", "csv", "--primary", "efficiency").out.splitlines()[1:]} == head_on
    for wrong in ("speed", ""):
        bad = run("list", "--primary", wrong)
        assert bad.code == 2 and f"unknown problem id {wrong!r}" in bad.err


def test_tag_adds_changes_and_removes_tags_and_keeps_the_rest(cli, data_dir: Path) -> None:
    path = data_dir / "papers" / "2307.03172.yaml"
    result = cli("--data-dir", str(data_dir), "tag", "2307.03172", "--problem", "efficiency", "--assumption", "cost-irrelevant:challenges", "--note", "long contexts")
    assert result.code == 0, result.err
    data = yaml.safe_load(path.read_text())
    assert [p["id"] for p in data["problems"]] == ["prompting", "efficiency"]
    assert {"id": "cost-irrelevant", "stance": "challenges", "by": "person"} in data["assumptions"]
    assert data["notes"] == "long contexts"
    result = cli("--data-dir", str(data_dir), "tag", "2307.03172", "--remove", "efficiency", "--assumption", "cost-irrelevant:relies")
    data = yaml.safe_load(path.read_text())
    assert [p["id"] for p in data["problems"]] == ["prompting"]
    assert {"id": "cost-irrelevant", "stance": "relies", "by": "person"} in data["assumptions"]
    assert data["notes"] == "long contexts"
    replaced = cli("--data-dir", str(data_dir), "tag", "2307.03172", "--note", "short contexts")
    assert replaced.code == 0 and "--note replaced the earlier note (13 characters, 1 line)" in replaced.err
    every = [a["id"] for a in data["assumptions"]]
    bare = cli("--data-dir", str(data_dir), "tag", "2307.03172", *[arg for a in every for arg in ("--remove", a)])
    assert bare.code == 0 and "now maps to no assumption, which check refuses" in bare.err


def test_tag_refuses_unknown_ids_and_stances_and_writes_nothing(cli, data_dir: Path) -> None:
    before = snapshot(data_dir)
    for args in (["--problem", "speed"], ["--assumption", "fixed-recipe:loves"], ["--assumption", "fixed-recipe"], ["--assumption", "prompting:relies"], ["--remove", "nope"]):
        result = cli("--data-dir", str(data_dir), "tag", "2205.14135", *args)
        assert result.code == 2, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1
    assert snapshot(data_dir) == before


def test_tag_without_options_off_a_terminal_does_not_prompt(cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "tag", "2205.14135")
    assert result.code == 2
    assert "prompts only run on a terminal" in result.err


def test_help_is_fast_to_import_and_lists_examples() -> None:
    code = "import sys; from lmdev.cli.app import run; rc = run(['--help']); print(sorted(m for m in ('httpx', 'rich.table') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.stdout.strip().endswith("[]"), proc.stdout
    assert "Examples:" in proc.stdout


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "lmdev", "--version"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.startswith("lmdev ")


def test_unknown_command_is_a_usage_error(cli) -> None:
    assert cli("frobnicate").code == 2


PARSER_ERRORS = {
    "inbox-negative-limit": (["inbox", "--limit", "-1"], ["--limit", "lmdev inbox --help"]),
    "inbox-relevance-above-one": (["inbox", "--min-relevance", "2"], ["--min-relevance"]),
    "search-max-not-a-number": (["search", "ti:x", "--max", "abc"], ["--max", "integer"]),
    "list-unknown-format": (["list", "--format", "yaml"], ["--format", "yaml"]),
    "list-unknown-option": (["list", "--nosuch"], ["--nosuch", "lmdev list --help"]),
    "show-missing-id": (["show"], ["ID", "lmdev show --help"]),
    "digest-option-without-value": (["digest", "--since"], ["--since"]),
    "unknown-command": (["frobnicate"], ["frobnicate", "lmdev --help"]),
    "tag-given-and-removed": (["tag", "2205.05638", "--problem", "safety", "--assumption", "fixed-recipe:relies", "--remove", "fixed-recipe"], ["fixed-recipe: both given and removed"]),
    "add-from-missing-file": (["add", "--from", "/nonexistent/ids.txt"], ["no such file", "/nonexistent/ids.txt"]),
    "import-missing-file": (["import", "/nonexistent/refs.bib"], ["no such file", "/nonexistent/refs.bib"]),
    "classify-missing-input": (["classify", "--input", "/nonexistent/x.jsonl"], ["/nonexistent/x.jsonl"]),
    "check-missing-file": (["check", "/nonexistent/p.yaml"], ["/nonexistent/p.yaml"]),
}


@pytest.mark.parametrize("case", sorted(PARSER_ERRORS))
def test_the_parsers_own_errors_are_one_lmdev_line_with_exit_2(cli, small_dir: Path, case: str) -> None:
    args, words = PARSER_ERRORS[case]
    result = cli("--data-dir", str(small_dir), *args)
    assert result.code == 2 and result.out == ""
    [line] = result.err.strip().splitlines()
    assert line.startswith("lmdev: error: ") and all(w in line for w in words), line
    assert "Usage:" not in line and "Error:" not in line


def test_commands_page_documents_exactly_the_commands_and_options_that_exist() -> None:
    import re

    import typer.main

    from lmdev.cli.app import app

    root: Any = typer.main.get_command(app)
    page = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### `lmdev ([a-z-]+)`\n(.*?)(?=^##|\Z)", page, flags=re.M | re.S))
    assert set(sections) == set(root.commands), "docs/commands.md must have one section per command"
    for name, command in root.commands.items():
        wanted = {opt for p in command.params if p.param_type_name == "option" for opt in p.opts if opt.startswith("--")}
        wanted |= {opt for p in command.params if p.param_type_name == "option" for opt in p.secondary_opts}
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", sections[name]))
        assert wanted <= named, f"lmdev {name}: undocumented {sorted(wanted - named)}"
        assert named <= wanted, f"lmdev {name}: documents options that do not exist: {sorted(named - wanted)}"
    global_opts = {opt for p in root.params for opt in p.opts if opt.startswith("--")}
    assert all(f"`{opt}" in page for opt in global_opts)


def test_debug_shows_the_traceback_that_the_one_line_error_hides(cli, tmp_path: Path) -> None:
    plain = cli("--data-dir", str(tmp_path), "list")
    assert plain.code == 1 and plain.err.startswith("lmdev: error:") and "Traceback" not in plain.err
    env = {**__import__("os").environ, "LMDEV_DEBUG": "1"}
    proc = subprocess.run([sys.executable, "-m", "lmdev", "--data-dir", str(tmp_path), "list"], capture_output=True, text=True, env=env)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "DataError" in proc.stderr


def test_the_library_never_imports_typer_or_rich() -> None:
    code = (
        "import sys, lmdev.store, lmdev.check, lmdev.ingest, lmdev.arxiv, lmdev.classifier, lmdev.reports, lmdev.reports.html, lmdev.reports.markdown;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_a_person_restating_the_essays_tag_changes_nothing(cli, data_dir: Path) -> None:
    """The essay's own reading stays the essay's: tagging what it already says is a no-op."""
    path = data_dir / "papers" / "2205.14135.yaml"
    before = path.read_bytes()
    data = yaml.safe_load(before)
    essay_problem = next(p["id"] for p in data["problems"] if p["by"] == "essay")
    essay_assumption = next(a for a in data["assumptions"] if a["by"] == "essay")
    result = cli("--data-dir", str(data_dir), "tag", "2205.14135", "--problem", essay_problem, "--assumption", f"{essay_assumption['id']}:{essay_assumption['stance']}")
    assert result.code == 0, result.err
    assert "(unchanged)" in result.err and path.read_bytes() == before
    changed = cli("--data-dir", str(data_dir), "tag", "2205.14135", "--assumption", f"{essay_assumption['id']}:{'relies' if essay_assumption['stance'] != 'relies' else 'supports'}")
    assert changed.code == 0 and "(unchanged)" not in changed.err  # a different stance is the person's own reading
    assert next(a for a in yaml.safe_load(path.read_text())["assumptions"] if a["id"] == essay_assumption["id"])["by"] == "person"
