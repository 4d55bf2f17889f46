"""The layers (README, "Layout") hold: `lint-imports` passes on the tree, and fails on an upward import."""

import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PACKAGES = ["config", "core", "accounts", "occupations", "accreditation", "assessments", "certificates"]
PACKAGES += ["subsidies", "oversight"]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


def _copy_tree(tmp_path: Path) -> Path:
    base = Path(settings.BASE_DIR)
    for name in PACKAGES:
        shutil.copytree(base / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(base / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_its_layers(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]


def test_an_upward_import_breaks_the_build(tmp_path):
    root = _copy_tree(tmp_path)
    (root / "core" / "upward.py").write_text("from subsidies.models import Claim  # noqa\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "core.upward -> subsidies.models" in result.stdout
