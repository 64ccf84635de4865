"""A small package (two objects, a role, an approval, data) written where a test
wants it, as a folder or a zip."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

MANIFEST = """\
kind: extension
api_name: decoration
version: 1.2.0
label: {zh: 装修公司, en: Decoration company}
requires: {propolis: ">=1.0"}
contents: [objects/*.yaml, roles.yaml, approvals/*.yaml, data/*.yaml]
data:
  - {api_name: stages, object: site_stage, file: data/stages.yaml,
     mode: reference, key: code}
  - {api_name: samples, object: site, file: data/sites.yaml}
"""

SITE = """\
kind: object
api_name: site
label: {zh: 装修工地, en: Site}
fields:
  - {api_name: name, type: text, label: {zh: 工地名称}}
  - {api_name: stage, type: lookup, to: site_stage}
  - {api_name: budget, type: currency}
"""

STAGE = """\
kind: object
api_name: site_stage
label: {zh: 工地阶段, en: Stage}
fields:
  - {api_name: code, type: text, unique: true}
  - {api_name: name, type: text}
"""

ROLES = """\
kind: role
api_name: project_manager
label: {zh: 项目经理, en: Project manager}
grants:
  site: {verbs: [create, read, edit], scope: subordinates, fields: {budget: read}}
---
kind: role
api_name: supervisor
label: {zh: 监理, en: Supervisor}
grants:
  site: {verbs: [read]}
"""

APPROVAL = """\
kind: approval
api_name: site
label: {zh: 工地审批}
form: site
steps: [{approver: {relation: direct_superior}}]
"""

FILES: dict[str, str] = {
    "extension.yaml": MANIFEST,
    "objects/site.yaml": SITE,
    "objects/stage.yaml": STAGE,
    "roles.yaml": ROLES,
    "approvals/site.yaml": APPROVAL,
    "data/stages.yaml": "- {code: start, name: 开工}\n- {code: done, name: 竣工}\n",
    "data/sites.yaml": "- {name: 样板间, budget: 120000, opened: 2026-03-01}\n",
}

Writer = Callable[..., Path]


def write_folder(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
    return root


def write_zip(path: Path, files: Mapping[str, str | bytes], prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(prefix + name, content)
    return path


@pytest.fixture
def package_dir(tmp_path: Path) -> Writer:
    """``package_dir(changes)``: the sample package as a folder; ``changes`` maps
    a file name to new content, or to None to leave the file out."""

    def make(changes: Mapping[str, str | None] | None = None) -> Path:
        files: dict[str, str] = dict(FILES)
        for name, content in (changes or {}).items():
            if content is None:
                files.pop(name, None)
            else:
                files[name] = content
        root = tmp_path / "decoration"
        shutil.rmtree(root, ignore_errors=True)
        return write_folder(root, files)

    return make
