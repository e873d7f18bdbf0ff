"""README.md and docs/*.md name only links, `rayqa` subcommands and repository files that
exist, so the docs cannot drift from the code: a renamed subcommand, a moved config or
bench script, or a heading whose anchor changed fails here."""

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rayqa.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 150
# One page per topic, as issue 23 lists them; more pages may be added.
TOPIC_PAGES = ("cluster", "serving", "cora", "crosslingual", "boundary", "evaluation",
               "data", "performance", "development")
# Repository paths named in code are checked when they start with one of these.
CHECKED_ROOTS = ("configs", "bench", "jobs", "tests", "rayqa", "docs", ".ci")

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`([^`]+)`")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SUBCOMMAND = re.compile(r"(?<![\w./-])rayqa\s+([a-z][a-z0-9-]*)")
REPO_PATH = re.compile(r"(?:^|(?<=[\s=(\[\"']))((?:%s)/[^\s`'\"()\[\]]*)"
                       % "|".join(re.escape(root) for root in CHECKED_ROOTS))
BRACES = re.compile(r"\{([^{}]*)\}")
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def subcommands() -> set[str]:
    """The subcommands the `rayqa` parser accepts."""
    parser = build_parser()
    return {name for action in parser._actions
            if isinstance(action, argparse._SubParsersAction) for name in action.choices}


@dataclass
class Page:
    """A Markdown page split into prose (outside fenced code) and code."""

    path: Path
    prose: str = ""
    code: list[str] = field(default_factory=list)  # fenced blocks and inline spans

    @classmethod
    def read(cls, path: Path, text: str | None = None) -> "Page":
        page = cls(path)
        prose, block, fence = [], [], None
        for line in (path.read_text(encoding="utf-8") if text is None else text).splitlines():
            marker = re.match(r"^\s*(```|~~~)", line)
            if fence is None and marker:
                fence, block = marker.group(1), []
            elif fence is not None and line.strip().startswith(fence):
                page.code.append("\n".join(block))
                fence = None
            elif fence is not None:
                block.append(line)
            else:
                prose.append(line)
        page.prose = "\n".join(prose)
        page.code += INLINE_CODE.findall(page.prose)
        return page

    def links(self) -> list[str]:
        """Link targets in the prose (not those shown inside code spans)."""
        return LINK.findall(INLINE_CODE.sub("", self.prose))

    def anchors(self) -> set[str]:
        """The anchors GitHub gives this page's headings."""
        seen: dict[str, int] = {}
        anchors = set()
        for line in self.prose.splitlines():
            heading = HEADING.match(line)
            if heading:
                slug = github_slug(heading.group(2))
                count = seen.get(slug, 0)
                seen[slug] = count + 1
                anchors.add(slug if count == 0 else f"{slug}-{count}")
        return anchors

    def subcommands(self) -> list[str]:
        return [name for code in self.code for name in SUBCOMMAND.findall(code)]

    def repo_paths(self) -> list[str]:
        """Repository paths named in code, brace lists expanded, `::test` dropped."""
        paths = []
        for code in self.code:
            for raw in REPO_PATH.findall(code):
                raw = raw.split("::")[0].rstrip(".,:;")
                if not any(mark in raw for mark in ("<", "*", "...")):
                    paths += expand_braces(raw)
        return paths


def github_slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: the text without markup, lower case,
    punctuation dropped (letters, digits, `_`, `-` kept), spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def expand_braces(path: str) -> list[str]:
    """`configs/boundary/{lakm,mixmrc}.yaml` -> both paths."""
    match = BRACES.search(path)
    if not match:
        return [path]
    return [expanded for choice in match.group(1).split(",")
            for expanded in expand_braces(path[:match.start()] + choice + path[match.end():])]


def problems(page: Page, commands: set[str]) -> list[str]:
    """What the page names that does not exist, one message each."""
    found = []
    for target in page.links():
        if URL_SCHEME.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.path.parent / file_part).resolve() if file_part else page.path
        if file_part and not linked.exists():
            found.append(f"link {target}: no file {linked}")
            continue
        if anchor and linked.suffix == ".md":
            anchors = Page.read(linked).anchors() if file_part else page.anchors()
            if anchor not in anchors:
                found.append(f"link {target}: no heading with anchor #{anchor} "
                             f"in {linked.name}")
    for name in page.subcommands():
        if name not in commands:
            found.append(f"rayqa {name}: no such subcommand")
    for path in page.repo_paths():
        if not (REPO / path).exists():
            found.append(f"{path}: no such file or directory")
    return found


@pytest.fixture(scope="module")
def commands() -> set[str]:
    return subcommands()


@pytest.mark.parametrize("path", PAGES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_link_subcommand_and_path_exists(path, commands):
    found = problems(Page.read(path), commands)
    assert not found, "\n".join(found)


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_every_topic_has_its_page():
    missing = [name for name in TOPIC_PAGES if not (DOCS / f"{name}.md").is_file()]
    assert missing == []


def test_every_page_is_reachable_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for target in Page.read(README).links() if not URL_SCHEME.match(target)}
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


def test_every_subcommand_is_documented(commands):
    named = set(Page.read(DOCS / "cli.md").subcommands())
    assert sorted(commands - named) == []


def test_the_checks_see_what_the_pages_name():
    """The extraction finds the links, subcommands and paths the pages do name, so an
    empty problem list means they were checked, not that nothing was found."""
    pages = [Page.read(path) for path in PAGES]
    assert sum(len(page.links()) for page in pages) > 50
    assert {"cora", "xl-table", "run-settings"} <= {n for p in pages for n in p.subcommands()}
    paths = {path for page in pages for path in page.repo_paths()}
    assert {"configs/boundary/lakm.yaml", "bench/serve_load.py", "jobs/train.py"} <= paths


def test_a_wrong_link_subcommand_or_path_is_reported(tmp_path, commands):
    (tmp_path / "other.md").write_text("# Other page\n\n## Its part\n")
    text = """# Page

See [the other](other.md#its-part), [gone](missing.md), [no part](other.md#nothing),
[here](#page), [nowhere](#nowhere) and [a site](https://example.org/x.md).

```bash
rayqa cora --config configs/cora.yaml
rayqa no-such-command --config configs/no_such.yaml
python bench/no_such.py configs/boundary/{lakm,no_such}.yaml
```

Run `rayqa evaluate` or `rayqa nothing-here`; see `tests/test_docs.py::test_readme_is_short`.
"""
    page = Page.read(tmp_path / "page.md", text)
    assert sorted(problems(page, commands)) == sorted([
        f"link missing.md: no file {tmp_path / 'missing.md'}",
        "link other.md#nothing: no heading with anchor #nothing in other.md",
        f"link #nowhere: no heading with anchor #nowhere in {page.path.name}",
        "rayqa no-such-command: no such subcommand",
        "rayqa nothing-here: no such subcommand",
        "configs/no_such.yaml: no such file or directory",
        "bench/no_such.py: no such file or directory",
        "configs/boundary/no_such.yaml: no such file or directory",
    ])


@pytest.mark.parametrize("heading, slug", [
    ("Answer-boundary detection: mixMRC + LAKM", "answer-boundary-detection-mixmrc--lakm"),
    ("The `rayqa` command and `configs/`", "the-rayqa-command-and-configs"),
    ("Running one test", "running-one-test"),
    ("snake_case and [a link](x.md)", "snake_case-and-a-link"),
])
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug
