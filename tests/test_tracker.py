"""Starting a tracker of one's own: the packaged taxonomy, init, the config, taxonomy --diff."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from helpers import SHIPPED, snapshot
from lmdev.tracker import packaged_taxonomy_text


def test_the_packaged_taxonomy_is_the_shipped_trackers() -> None:
    assert packaged_taxonomy_text() == (SHIPPED / "taxonomy.yaml").read_text(encoding="utf-8")


def test_init_makes_a_tracker_that_passes_check(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("init", str(tmp_path / "group"))
    assert result.code == 0, result.err
    root = tmp_path / "group"
    assert (root / "data" / "taxonomy.yaml").read_text(encoding="utf-8") == packaged_taxonomy_text()
    assert (root / "data" / "papers").is_dir()
    assert "data/rejected.yaml merge=union" in (root / ".gitattributes").read_text().splitlines()
    assert {".venv/", ".lmdev.lock", ".*.tmp"} <= set((root / ".gitignore").read_text().splitlines()), "what lmdev writes beside the data is never committed"
    assert yaml.safe_load((root / "data" / "config.yaml").read_text()) is None, "every key is optional: the template holds only comments"
    assert not (root / ".github").exists() and not (root / ".pre-commit-config.yaml").exists()
    monkeypatch.chdir(root)
    check = cli("check")
    assert check.code == 0 and "checked 0 paper files: all good" in check.err
    assert cli("taxonomy", "--diff").err.strip() == "same as the packaged taxonomy"


def test_every_key_of_the_config_template_is_valid_when_uncommented(tmp_path: Path) -> None:
    from lmdev.config import load_config
    from lmdev.tracker import CONFIG_TEMPLATE

    uncommented = "\n".join(line[2:] for line in CONFIG_TEMPLATE.splitlines() if re.match(r"^# ( *)[a-z_]+:", line))
    (tmp_path / "config.yaml").write_text(uncommented + "\n")
    config = load_config(tmp_path)
    assert config.check.require_reviewed is True and config.check.min_papers_per_problem == 3
    assert config.coverage.min_papers == 3 and config.watch.categories == ["cs.CL", "cs.LG", "cs.AI"]


def test_the_config_template_names_each_key_s_real_default(tmp_path: Path) -> None:
    """The examples are not the defaults: a reader of the template must not take 0.05 for the
    relevance floor a tracker has while the line stays commented out."""
    from lmdev.config import load_config
    from lmdev.tracker import CONFIG_TEMPLATE

    defaults = dict(re.findall(r"^# +([a-z_]+):.*\(default: ([^)]*)\)$", CONFIG_TEMPLATE, re.MULTILINE))
    (tmp_path / "config.yaml").write_text("# nothing set\n")
    config = load_config(tmp_path)
    assert defaults == {"require_reviewed": "false", "min_papers_per_problem": "none", "min_papers": "3", "recent_years": "2", "categories": "these three", "min_relevance": "0, all in"}
    assert config.check.require_reviewed is False and config.check.min_papers_per_problem is None
    assert (config.coverage.min_papers, config.coverage.recent_years) == (3, 2)
    assert not config.watch.min_relevance


def test_init_refuses_to_overwrite_and_writes_nothing(cli, tmp_path: Path) -> None:
    root = tmp_path / "group"
    (root / "data").mkdir(parents=True)
    (root / "data" / "taxonomy.yaml").write_text("version: 1\n# ours\n")
    before = snapshot(root)
    result = cli("init", str(root))
    assert result.code == 2 and "refusing to overwrite" in result.err and "taxonomy.yaml" in result.err
    assert snapshot(root) == before
    file_in_the_way = tmp_path / "file"
    file_in_the_way.write_text("x")
    assert cli("init", str(file_in_the_way)).code == 2


def test_init_refuses_a_gitignore_that_is_not_a_file(cli, tmp_path: Path) -> None:
    (tmp_path / ".gitignore").mkdir()
    result = cli("init", str(tmp_path))
    assert result.code == 1 and ".gitignore" in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists(), "nothing written"


def test_init_adds_only_missing_lines_to_an_existing_gitignore(cli, tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pdf\n.venv/")
    assert cli("init", str(tmp_path)).code == 0
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["*.pdf", ".venv/"] and lines.count(".venv/") == 1 and "__pycache__/" in lines


def test_init_writes_a_ci_workflow_and_a_pre_commit_hook_on_request(cli, tmp_path: Path) -> None:
    result = cli("init", str(tmp_path / "t"), "--ci", "github", "--pre-commit", "--install-from", "lmdev @ git+https://example.org/lmdev@abc123")
    assert result.code == 0, result.err
    workflow = yaml.safe_load((tmp_path / "t" / ".github" / "workflows" / "lmdev.yml").read_text())
    runs = [step["run"] for step in workflow["jobs"]["check"]["steps"] if "run" in step]
    assert runs == ['python -m pip install "lmdev @ git+https://example.org/lmdev@abc123"', "lmdev check --format github"]
    hooks = yaml.safe_load((tmp_path / "t" / ".pre-commit-config.yaml").read_text())["repos"][0]
    assert hooks["repo"] == "local"
    [hook] = hooks["hooks"]
    assert hook["entry"] == "lmdev check" and hook.get("pass_filenames", True) is True
    pattern = re.compile(hook["files"])
    for path in ("data/papers/2205.14135.yaml", "data/taxonomy.yaml", "data/config.yaml", "data/rejected.yaml"):
        assert pattern.search(path), path
    for path in ("notes/draft.yaml", "README.md", "data/papers/x.txt"):
        assert not pattern.search(path), path


def test_init_without_a_known_install_source_says_what_to_edit(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lmdev.tracker.install_spec", lambda: None)
    result = cli("init", str(tmp_path / "t"), "--ci", "github")
    assert result.code == 0
    assert "YOUR-ORG" in (tmp_path / "t" / ".github" / "workflows" / "lmdev.yml").read_text()
    assert "to do: edit .github/workflows/lmdev.yml" in result.err


def test_install_spec_follows_where_pip_installed_lmdev_from(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdev import tracker

    class Dist:
        def __init__(self, text: str | None) -> None:
            self.text = text

        def read_text(self, name: str) -> str | None:
            return self.text

    cases = {
        json.dumps({"url": "https://github.com/org/lmdev", "vcs_info": {"vcs": "git", "commit_id": "abc"}}): "lmdev @ git+https://github.com/org/lmdev@abc",
        json.dumps({"url": "file:///home/me/lmdev", "dir_info": {}}): None,
        json.dumps({"url": "https://example.org/lmdev-0.2.0.tar.gz", "archive_info": {}}): "lmdev @ https://example.org/lmdev-0.2.0.tar.gz",
        "not json": None,
    }
    for text, expected in cases.items():
        monkeypatch.setattr(tracker.metadata, "distribution", lambda name, t=text: Dist(t))
        assert tracker.install_spec() == expected
    monkeypatch.setattr(tracker.metadata, "distribution", lambda name: Dist(None))
    assert tracker.install_spec() == f"lmdev=={tracker.__version__}"


def test_outside_any_tracker_the_error_suggests_init(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("list")
    assert result.code == 1 and "lmdev init" in result.err and len(result.err.strip().splitlines()) == 1


def test_a_tracker_may_add_its_own_nodes_and_diff_shows_them(cli, data_dir: Path) -> None:
    path = data_dir / "taxonomy.yaml"
    text = path.read_text()
    node = "  - id: evaluation\n    field: lm-development\n    name: Evaluation\n    description: Measuring what models can do.\n    ref: {section: language-model-development}\n"
    text = text.replace("\nproblems:\n", "\nproblems:\n" + node, 1)
    text = text.replace("  year: 2024\n", "  year: 2025\n", 1)
    path.write_text(text)
    result = cli("--data-dir", str(data_dir), "taxonomy", "--diff", "--format", "json")
    assert result.code == 0, result.err
    assert {"change": "added", "kind": "problem", "id": "evaluation", "attributes": []} in json.loads(result.out)
    assert {"change": "changed", "kind": "source", "id": "source", "attributes": ["year"]} in json.loads(result.out)
    assert "+ problem      evaluation" in cli("--data-dir", str(data_dir), "taxonomy", "--diff").out
    assert cli("--data-dir", str(data_dir), "tag", "2205.14135", "--problem", "evaluation").code == 0
    assert cli("--data-dir", str(data_dir), "check").code == 0
    path.write_text(text.replace("field: lm-development\n    name: Evaluation", "field: lm-dev\n    name: Evaluation"))
    broken = cli("--data-dir", str(data_dir), "taxonomy", "--diff")
    assert broken.code == 1 and "taxonomy.yaml:" in broken.err and "lm-dev" in broken.err


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("check:\n  require_reviewed: yes please\n", 2, "check.require_reviewed"),
        ("coverage:\n  min_papers: -1\n", 2, "coverage.min_papers"),
        ("colour: blue\n", 1, "colour"),
        ("- a list\n", 1, "config"),
        ("check: [unclosed\n", 1, "invalid YAML: a '[' list begun on this line is never closed"),
        ("colour: auto\ncheck:\n  require_reviewed: \"yes\n", 3, "invalid YAML: a quoted string begun on this line is never closed"),
        ("# " + "x" * 2_000_000 + "\n", 0, "larger than"),
    ],
)
def test_check_reports_a_bad_config_with_file_and_line(cli, data_dir: Path, text: str, line: int, words: str) -> None:
    (data_dir / "config.yaml").write_text(text)
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    assert (f"config.yaml:{line}: " if line else "config.yaml: ") in result.out and words in result.out, result.out


def test_one_check_names_every_mistake_in_the_config_in_plain_words(cli, data_dir: Path) -> None:
    """YAML's 'yes' is not taken for true (only true and false are), and pydantic's own wording
    ('Extra inputs are not permitted') does not reach the user."""
    (data_dir / "config.yaml").write_text('watch:\n  categories: [cs.CLL]\n  min_relevance: "0.3"\ncheck:\n  require_reviewed: yes\nfoo: 1\n')
    result = cli("--data-dir", str(data_dir), "check")
    assert result.code == 1
    line = next(line for line in result.out.splitlines() if "config.yaml" in line)
    for words in ("watch.categories", "watch.min_relevance", "foo: unknown field", "line 5: YAML reads 'yes' as true: write true or false for a setting, or quote it for text"):
        assert words in line, (words, line)
    assert "Extra inputs" not in line and "Input should" not in line
    (data_dir / "config.yaml").write_text("check:\n  require_reviewed: on\n")
    alone = cli("--data-dir", str(data_dir), "check")
    assert alone.code == 1 and "config.yaml:2: YAML reads 'on' as true" in alone.out


def test_an_empty_config_is_fine_and_config_sets_check_defaults(cli, data_dir: Path) -> None:
    (data_dir / "config.yaml").write_text("")
    assert cli("--data-dir", str(data_dir), "check").code == 0
    (data_dir / "config.yaml").write_text("check:\n  min_papers_per_problem: 100000\n")
    strict = cli("--data-dir", str(data_dir), "check")
    assert strict.code == 1 and "fewer than --min-papers-per-problem 100000" in strict.out


def test_check_with_files_reports_only_what_is_being_committed(cli, data_dir: Path) -> None:
    (data_dir / "papers" / "scratch.yaml").write_text("not: [valid\n")
    committed = data_dir / "papers" / "2205.14135.yaml"
    assert cli("--data-dir", str(data_dir), "check").code == 1
    assert cli("--data-dir", str(data_dir), "check", str(committed)).code == 0
    committed.write_text(committed.read_text().replace("by: essay", "by: nobody", 1))
    result = cli("--data-dir", str(data_dir), "check", str(committed))
    assert result.code == 1 and "2205.14135.yaml" in result.out and "scratch" not in result.out
    assert cli("--data-dir", str(data_dir), "check", str(data_dir / "taxonomy.yaml")).code == 0
    (data_dir / "config.yaml").write_text("check: {require_reviewed: maybe}\n")
    config = cli("--data-dir", str(data_dir), "check", str(data_dir / "config.yaml"), str(committed))
    assert config.code == 1 and "config.yaml:1" in config.out and "scratch" not in config.out
    assert cli("--data-dir", str(data_dir), "check", str(data_dir.parent / "elsewhere.yaml")).code == 2


def _yaml_blocks(text: str) -> list[object]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]


def test_the_readme_snippets_are_what_init_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers import REPO
    from lmdev.tracker import HOOK_FILES, init_tracker

    monkeypatch.setattr("lmdev.tracker.install_spec", lambda: None)
    init_tracker(tmp_path, ci="github", pre_commit=True)
    workflow, hook = _yaml_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    assert workflow == yaml.safe_load((tmp_path / ".github" / "workflows" / "lmdev.yml").read_text())
    assert hook == yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    assert hook == yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text()), "this repository uses the README's hook as written"
    [remote] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert remote["files"] == HOOK_FILES and remote["entry"] == "lmdev check" and remote.get("pass_filenames", True)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install lmdev" not in text and "YOUR-ORG" in text


def test_the_hook_checks_what_is_staged_not_untracked_scratch_files(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What pre-commit does with the hook: pass the staged files that match ``files`` to the entry."""
    import subprocess

    from lmdev.tracker import HOOK_FILES

    root = tmp_path / "t"
    assert cli("init", str(root), "--pre-commit").code == 0
    monkeypatch.chdir(root)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    (root / "data" / "papers" / "2401.00001.yaml").write_text("id: '2401.00001'\ntitle: Fine\nassumptions:\n- id: fixed-recipe\n  stance: relies\n  by: person\n")
    (root / "data" / "papers" / "scratch.yaml").write_text("half: [written\n")
    subprocess.run([*git, "add", ".gitignore", ".gitattributes", ".pre-commit-config.yaml", "data/taxonomy.yaml", "data/config.yaml", "data/papers/2401.00001.yaml"], check=True)

    def staged() -> list[str]:
        names = subprocess.run([*git, "diff", "--cached", "--name-only"], check=True, capture_output=True, text=True).stdout.split()
        return [n for n in names if re.search(HOOK_FILES, n) and n != "data/taxonomy.yaml"]

    assert cli("check").code == 1, "the whole tracker has a broken scratch file"
    assert cli("check", *staged()).code == 0, "the commit holds only good files"
    subprocess.run([*git, "add", "data/papers/scratch.yaml"], check=True)
    assert cli("check", *staged()).code == 1


def test_coverage_gaps_follow_the_config_unless_an_option_says_otherwise(cli, data_dir: Path) -> None:
    def gaps(*args: str) -> set[str]:
        result = cli("--data-dir", str(data_dir), "coverage", "--format", "json", *args)
        assert result.code == 0, result.err
        return {g["reason"] for g in json.loads(result.out)["gaps"]}

    assert not any("fewer than 100000" in g for g in gaps())
    (data_dir / "config.yaml").write_text("coverage:\n  min_papers: 100000\n")
    assert any("fewer than 100000" in g for g in gaps())
    assert not any("fewer than 100000" in g for g in gaps("--min-papers", "3"))
    (data_dir / "config.yaml").write_text("coverage:\n  min_papers: many\n")
    broken = cli("--data-dir", str(data_dir), "coverage")
    assert broken.code == 1 and "config.yaml:2" in broken.err


def test_the_pre_commit_hook_works_as_written_with_real_pre_commit(cli, tmp_path: Path) -> None:
    """pre-commit itself, installed as a git hook: a commit of good files passes although an
    untracked scratch file is broken; committing a broken paper file fails."""
    import os
    import shutil
    import subprocess
    import sys

    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    root = tmp_path / "t"
    assert cli("init", str(root), "--pre-commit").code == 0
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=root, env=env, capture_output=True, text=True, timeout=120)

    assert run(*git, "init", "-q").returncode == 0
    assert run(pre_commit, "install").returncode == 0
    (root / "data" / "papers" / "2401.00001.yaml").write_text("id: '2401.00001'\ntitle: Fine\nassumptions:\n- id: fixed-recipe\n  stance: relies\n  by: person\n")
    (root / "data" / "papers" / "scratch.yaml").write_text("half: [written\n")
    assert run(*git, "add", ".gitignore", ".gitattributes", ".pre-commit-config.yaml", "data/taxonomy.yaml", "data/config.yaml", "data/papers/2401.00001.yaml").returncode == 0
    good = run(*git, "commit", "-qm", "a first paper")
    assert good.returncode == 0, good.stdout + good.stderr
    (root / "data" / "papers" / "2401.00002.yaml").write_text("id: '2401.00002'\ntitle: No assumption\n")
    assert run(*git, "add", "data/papers/2401.00002.yaml").returncode == 0
    bad = run(*git, "commit", "-qm", "an untagged paper")
    assert bad.returncode != 0 and "2401.00002" in bad.stdout + bad.stderr and "scratch" not in bad.stdout + bad.stderr


def test_a_new_tracker_says_what_it_cannot_show_yet(cli, empty_data_dir: Path, tmp_path: Path) -> None:
    """An empty or young tracker: coverage's charts say there is nothing to chart, eval says
    there is nothing to evaluate (not a table of zeros), and the classifier says it is young."""
    import json

    cov = cli("--data-dir", str(empty_data_dir), "coverage")
    assert cov.code == 0 and "no paper maps a problem to an assumption yet" in cov.out and "no dated paper yet" in cov.out
    site = tmp_path / "site"
    assert cli("--data-dir", str(empty_data_dir), "report", "--html", str(site)).code == 0
    assert "No dated paper yet." in (site / "index.html").read_text() and "year, –" not in (site / "index.html").read_text()
    ev = cli("--data-dir", str(empty_data_dir), "eval")
    assert ev.code == 0 and "nothing to evaluate yet: 0 paper(s) tagged by a person" in ev.err and "0.000" not in ev.out
    assert json.loads(cli("--data-dir", str(empty_data_dir), "eval", "--format", "json").out)["model"] is None
    (tmp_path / "one.jsonl").write_text('{"id": "2401.00001", "title": "Speculative decoding for faster inference", "abstract": "We speed up decoding."}\n')
    young = cli("--data-dir", str(empty_data_dir), "classify", "--input", str(tmp_path / "one.jsonl"))
    assert young.code == 0 and "has learned from 0 tagged paper(s)" in young.err
    assert cli("--data-dir", str(empty_data_dir), "classify", "--all").err.strip() == "no papers to classify: the library is empty"
