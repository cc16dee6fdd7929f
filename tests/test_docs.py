"""The README cannot go stale: every command and every option of `--help` appears in it (as
sqlite-utils' tests/test_docs.py checks its docs), and its first-screen example output is
what the bundled example prints."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from importer.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _options() -> list[tuple[str, str]]:
    found = []
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                found.extend(
                    (name, opt)
                    for opt in param.opts + param.secondary_opts
                    if opt.startswith("--") and opt != "--help"
                )
    return found


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_the_readme(command):
    assert f"kombo-import {command}" in README or f"`{command}`" in README


@pytest.mark.parametrize("command,option", _options())
def test_every_option_is_in_the_readme(command, option):
    assert re.search(rf"`[^`]*{re.escape(option)}\b[^`]*`", README), (
        f"{command} {option} is not documented in README.md"
    )


def test_the_readme_example_output_is_what_the_example_prints():
    block = README.split("```\nRead example_data/candidates.xlsx", 1)[1].split("```", 1)[0]
    shown = [
        line
        for line in ("Read example_data/candidates.xlsx" + block).splitlines()
        if line.strip() and line.strip() != "..."
    ]
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(
            main, ["validate", "example_data/candidates.xlsx", "-m", "mappings/example.yaml"]
        )
    finally:
        os.chdir(here)
    printed = result.output.replace(str(ROOT) + "/", "").replace(str(ROOT), "…").splitlines()
    for line in shown[:3]:  # the counts: what changes when the example or the checks change
        assert line in printed, f"README shows {line!r}; the example prints:\n" + "\n".join(printed)
