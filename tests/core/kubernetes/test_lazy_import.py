"""``import dtm_core`` stays cheap: lightkube loads only when a plugin uses the Kubernetes API."""

from __future__ import annotations

import subprocess
import sys

import dtm_core


def test_lightkube_is_imported_only_on_use() -> None:
    code = ("import sys, dtm_core; assert 'lightkube' not in sys.modules; "
            "from dtm_core import ObjectRef; assert 'lightkube' not in sys.modules; "
            "from dtm_core import KubeClient; assert 'lightkube' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_are_exported() -> None:
    from dtm_core.kubernetes import KubeClient, ObjectRef, load_kube_client

    assert (dtm_core.KubeClient, dtm_core.ObjectRef, dtm_core.load_kube_client) == (
        KubeClient, ObjectRef, load_kube_client)
    assert {"KubeClient", "ObjectRef", "load_kube_client"} <= set(dtm_core.__all__)
