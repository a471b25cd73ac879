"""dtm-plugins-jenkins: registers the jenkins and jenkins-pipeline tool kinds (stubs in 0.1.0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from dtm_core import Live, OperationError, Option, OutputSpec, ToolContext, ToolKind, hookimpl

__version__ = "0.1.0"

_RELEASE = f"dtm-plugins-jenkins {__version__}"


class _NotYetImplemented(ToolKind):
    """Registration only: the real operations arrive with their own issue."""

    def _refuse(self) -> NoReturn:
        raise OperationError(
            f"{self.name} is not implemented yet in {_RELEASE}",
            hint="its real implementation is tracked as a separate issue; "
            "only registration exists today",
        )

    def create(self, ctx: ToolContext) -> NoReturn:
        self._refuse()

    def read(self, ctx: ToolContext) -> NoReturn:
        self._refuse()

    def update(self, ctx: ToolContext, live: Live) -> NoReturn:
        self._refuse()

    def delete(self, ctx: ToolContext) -> NoReturn:
        self._refuse()


class Jenkins(_NotYetImplemented):
    name = "jenkins"
    description = "A Jenkins controller installed into a Kubernetes cluster with its Helm chart."
    options = (
        Option("namespace", default="jenkins", description="namespace Jenkins runs in"),
        Option("chart_version", description="Helm chart version; the latest when unset"),
        Option(
            "service_type",
            default="ClusterIP",
            choices=("ClusterIP", "NodePort", "LoadBalancer"),
            description="how the web UI is exposed",
        ),
        Option("admin_user", default="admin", description="name of the first admin account"),
        Option("kubeconfig", description="kubeconfig file; the usual lookup when unset"),
    )
    outputs = (
        OutputSpec("url", "address of the Jenkins web UI"),
        OutputSpec("admin_user", "name of the first admin account"),
        OutputSpec("admin_password", "password of the first admin account", secret=True),
    )


class JenkinsPipeline(_NotYetImplemented):
    name = "jenkins-pipeline"
    description = "A Jenkins pipeline job that builds a repository's Jenkinsfile."
    options = (
        Option("jenkins_url", required=True, description="address of the Jenkins controller"),
        Option("job_name", required=True, description="name of the pipeline job"),
        Option("repo_url", required=True, description="Git repository holding the Jenkinsfile"),
        Option("branch", default="main", description="branch the job builds"),
        Option("jenkinsfile_path", default="Jenkinsfile", description="path in the repository"),
        Option("user", default="admin", description="Jenkins account dtm acts as"),
        Option(
            "token",
            secret=True,
            required=True,
            description="API token of that account, as a reference such as env:JENKINS_TOKEN",
        ),
    )
    outputs = (OutputSpec("job_url", "address of the pipeline job"),)


@hookimpl
def dtm_tool_kinds() -> Sequence[ToolKind]:
    return [Jenkins(), JenkinsPipeline()]
