"""dtm-plugins-jenkins: registers the jenkins tool (Jenkins in a cluster) and jenkins-pipeline (a job)."""

from __future__ import annotations

from collections.abc import Sequence

from dtm_core import ToolKind, hookimpl

from .install import Jenkins
from .pipeline import JenkinsPipeline

__version__ = "0.1.0"

__all__ = ["Jenkins", "JenkinsPipeline", "dtm_tool_kinds"]


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [Jenkins(), JenkinsPipeline()]
