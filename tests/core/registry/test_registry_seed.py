"""The seed index shipped with dtm: valid, identical in both places, with the promised data."""

from __future__ import annotations

import json
from pathlib import Path

from dtm_core.registry import load_index_file
from dtm_core.registry.sources import BUNDLED_INDEX

ROOT_INDEX = Path(__file__).resolve().parents[3] / "registry.json"
# sha256 of Argo CD's manifests/install.yaml at tag v3.5.1 (the copy in shared/specs).
ARGOCD_351_SHA256 = "795a3a972224da6a7f9d32c3e946445f062b60fb46028476715affeb688236e3"


def test_root_and_packaged_copies_are_identical() -> None:
    assert ROOT_INDEX.read_bytes() == BUNDLED_INDEX.read_bytes()


def test_bundled_index_validates() -> None:
    entries = load_index_file(BUNDLED_INDEX, name="default", validate=True)
    assert sorted(entries) == [
        "argocd",
        "argocd-app",
        "github-actions",
        "github-repo",
        "gitops",
        "jenkins",
        "jenkins-ci",
        "jenkins-pipeline",
    ]


def test_seed_tools_and_stacks() -> None:
    entries = load_index_file(BUNDLED_INDEX, name="default", validate=False)
    plugins = {
        name: {v.plugin.distribution for v in entry.versions}
        for name, entry in entries.items()
        if entry.kind == "tool"
    }
    assert plugins == {
        "argocd": {"dtm-plugins-argocd"},
        "argocd-app": {"dtm-plugins-argocd"},
        "github-actions": {"dtm-plugins-github"},
        "github-repo": {"dtm-plugins-github"},
        "jenkins": {"dtm-plugins-jenkins"},
        "jenkins-pipeline": {"dtm-plugins-jenkins"},
    }
    stacks = {name: entry for name, entry in entries.items() if entry.kind == "stack"}
    assert {name: [d.name for d in s.versions[0].dependencies] for name, s in stacks.items()} == {
        "gitops": ["github-repo", "github-actions", "argocd", "argocd-app"],
        "jenkins-ci": ["github-repo", "jenkins", "jenkins-pipeline"],
    }
    assert all(
        s.starter.startswith("# dtm starter") and "tools:" in s.starter for s in stacks.values()
    )
    assert {str(d) for d in entries["argocd-app"].versions[0].dependencies} == {"argocd>=2.8"}
    assert {str(d) for d in entries["jenkins-pipeline"].versions[0].dependencies} == {
        "jenkins>=2.400"
    }


def test_argocd_artifacts() -> None:
    argocd = load_index_file(BUNDLED_INDEX, name="default", validate=False)["argocd"]
    assert argocd.latest is not None and argocd.latest.version_text == "3.5.1"
    for version in argocd.versions:
        base = (
            f"https://raw.githubusercontent.com/argoproj/argo-cd/v{version.version_text}/manifests"
        )
        assert version.artifacts["manifest"]["url"] == f"{base}/install.yaml"
        assert version.artifacts["ha_manifest"]["url"] == f"{base}/ha/install.yaml"
        expected = ARGOCD_351_SHA256 if version.version_text == "3.5.1" else None
        assert version.artifacts["manifest"].get("sha256") == expected


def test_every_version_declares_dtm_and_plugin_ranges() -> None:
    document = json.loads(BUNDLED_INDEX.read_text())
    for entry in document["tools"].values():
        for version in entry["versions"].values():
            assert version["dtm"] == ">=0.2,<1"  # the seed plugins use plugin API 1.4 (dtm 0.2)
            if entry["kind"] == "tool":
                assert version["plugin"]["version"] == ">=0.1,<1"


def test_the_documented_example_validates() -> None:
    import re

    from dtm_core.registry import parse_index

    docs = (ROOT_INDEX.parent / "docs" / "registry.md").read_text()
    example = re.search(r"```json\n(.*?)```", docs, re.DOTALL)
    assert example is not None
    assert sorted(parse_index(json.loads(example.group(1)), name="docs")) == [
        "argocd",
        "argocd-app",
        "gitops",
    ]
