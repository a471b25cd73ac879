"""The ``jenkins-pipeline`` tool: a Pipeline job building a Git repository's Jenkinsfile, made over REST.

The job is written as its config.xml (``jobconfig``) through Jenkins' remote API
(``jenkinsapi``): ``POST createItem`` to create it (folders in ``job_name`` are created when
missing), ``GET``/``POST .../config.xml`` to read and converge it, ``POST doDelete`` to remove
it. On request dtm also commits a starter Jenkinsfile to the repository — through whichever
plugin hosts it (``ctx.source_control``), and only when the file is not there yet — and starts
the job's first build.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from dtm_core import (
    GONE,
    CommitRequest,
    Live,
    OperationError,
    Option,
    OutputSpec,
    ReadResult,
    Secret,
    ToolContext,
    ToolKind,
    create_once,
)

from .jenkinsapi import JenkinsClient, job_name_parts
from .jobconfig import PIPELINE_ROOT, JobConfigError, JobSettings, folder_xml, parse_job, pipeline_xml

LANGUAGES = ("python", "go", "node")
DEFAULT_DESCRIPTION = "Builds the repository's Jenkinsfile. Managed by dtm: change it in dtm, not here."
FOLDER_DESCRIPTION = "Created by dtm for the pipeline jobs inside it."
#: Option names a live job is compared by (``observed``); ``job_name`` is the name dtm recorded.
OBSERVED = ("repo_url", "branch", "jenkinsfile_path", "credentials_id", "description")


def starter_jenkinsfile(language: str) -> bytes:
    """The starter Jenkinsfile for ``language``, from ``templates/<language>.Jenkinsfile``."""
    return files("dtm_plugins_jenkins").joinpath("templates", f"{language}.Jenkinsfile").read_bytes()


def job_settings(options: Any) -> JobSettings:
    """The job the options describe, as :func:`parse_job` would read it back."""
    credentials = options.get("credentials_id")
    return JobSettings(repo_url=str(options["repo_url"]), branch=str(options["branch"]),
                       jenkinsfile_path=str(options["jenkinsfile_path"]),
                       credentials_id=str(credentials) if credentials else None,
                       description=str(options["description"]))


def _config(settings: JobSettings) -> bytes:
    try:
        return pipeline_xml(settings)
    except JobConfigError as error:
        raise OperationError(f"cannot write the job's config.xml: {error}",
                             hint="remove the character from the option") from None


def _client(ctx: ToolContext) -> JenkinsClient:
    token = ctx.options["token"]
    secret = token.reveal() if isinstance(token, Secret) else str(token)
    return JenkinsClient(str(ctx.options["jenkins_url"]), str(ctx.options["user"]), secret,
                         timeout=float(ctx.options["timeout"]), progress=ctx.progress)


def _same_job(one: str, other: str) -> bool:
    """Whether two job names name one job: Jenkins ignores case, dtm ignores outer slashes and spaces."""
    def key(name: str) -> list[str]:
        return [part.strip().lower() for part in name.strip().strip("/").split("/")]
    return key(one) == key(other)


def _recorded_name(ctx: ToolContext) -> str:
    """The job dtm made: the name it recorded (a rename is pending until update), else the option."""
    return str(ctx.outputs.get("job_name") or ctx.options["job_name"])


class JenkinsPipeline(ToolKind):
    name = "jenkins-pipeline"
    description = "A Jenkins Pipeline job that builds a Git repository's Jenkinsfile."
    options = (
        Option("jenkins_url", required=True,
               description="root URL of Jenkins, e.g. ${{ jenkins.default.outputs.url }}"),
        Option("job_name", required=True, description="name of the pipeline job; folders first: team/app"),
        Option("repo_url", required=True, description="Git repository holding the Jenkinsfile"),
        Option("branch", default="main", description="branch the job builds"),
        Option("jenkinsfile_path", default="Jenkinsfile",
               description="path of the Jenkinsfile in the repository"),
        Option("credentials_id",
               description="ID of the Jenkins credentials to check the repository out with"),
        Option("description", default=DEFAULT_DESCRIPTION, description="description of the job in Jenkins"),
        Option("user", default="admin", description="Jenkins account dtm acts as"),
        Option("token", secret=True, required=True,
               description="API token (or password) of that account, as a reference such as "
               "env:JENKINS_TOKEN"),
        Option("starter_jenkinsfile", "boolean", default=False,
               description="commit a starter Jenkinsfile for language when the repository has none"),
        Option("language", default="python", choices=LANGUAGES,
               description="language of the starter Jenkinsfile"),
        Option("build", "boolean", default=False,
               description="start the job's first build and wait until it leaves the queue"),
        Option("timeout", "integer", default=300,
               description="seconds to wait for a starting Jenkins and for the first build to be scheduled"),
    )
    outputs = (
        OutputSpec("job_url", "address of the pipeline job"),
        OutputSpec("job_name", "full name of the job (folders included)"),
        OutputSpec("build_number", "number of the first build, when dtm started one"),
    )

    # -- the four operations ---------------------------------------------------------------------------

    def create(self, ctx: ToolContext) -> dict[str, Any]:
        parts = job_name_parts(str(ctx.options["job_name"]))
        self._commit_starter(ctx)
        with _client(ctx) as jenkins:
            self._put_job(ctx, jenkins, parts)
            return self._outputs(ctx, jenkins, parts, build=bool(ctx.options["build"]))

    def read(self, ctx: ToolContext) -> ReadResult:
        name = _recorded_name(ctx)
        parts = job_name_parts(name)
        with _client(ctx) as jenkins:
            raw = jenkins.get_config(parts)
            job_url = jenkins.job_url(parts)
        if raw is None:
            return GONE
        outputs = {**ctx.outputs, "job_url": job_url, "job_name": name}
        try:
            live = parse_job(raw)
        except JobConfigError as error:
            return Live(observed={"job_name": name}, outputs=outputs, drift=[f"the job's {error}"])
        # The option as written when it names this job, so "team/app/" or "App" is no drift.
        wanted_name = str(ctx.options["job_name"])
        observed: dict[str, Any] = {"job_name": wanted_name if _same_job(wanted_name, name) else name}
        observed.update((key, getattr(live, key)) for key in OBSERVED)
        drift = live.structural_drift()
        if live.credentials_id and not ctx.options.get("credentials_id"):
            drift.append(f"the job checks out with credentials {live.credentials_id}, which no option sets")
        return Live(observed=observed, outputs=outputs, drift=drift)

    def update(self, ctx: ToolContext, live: Live) -> dict[str, Any]:
        parts = job_name_parts(str(ctx.options["job_name"]))
        old = job_name_parts(_recorded_name(ctx))
        self._commit_starter(ctx)
        renamed = not _same_job("/".join(old), "/".join(parts))
        with _client(ctx) as jenkins:
            # A new name must be free (or hold the job dtm made on an earlier try): never take one over.
            self._put_job(ctx, jenkins, parts, converge=not renamed)
            if renamed:
                ctx.progress(f"deleting job {'/'.join(old)}, now named {'/'.join(parts)}")
                jenkins.delete_item(old)
            build = bool(ctx.options["build"]) and (renamed or "build_number" not in ctx.outputs)
            return self._outputs(ctx, jenkins, parts, build=build, keep=not renamed)

    def delete(self, ctx: ToolContext) -> None:
        parts = job_name_parts(_recorded_name(ctx))
        with _client(ctx) as jenkins:
            ctx.progress(f"deleting job {'/'.join(parts)}")
            if not jenkins.delete_item(parts):
                ctx.progress(f"job {'/'.join(parts)} was already gone")

    # -- steps -----------------------------------------------------------------------------------------

    def _put_job(self, ctx: ToolContext, jenkins: JenkinsClient, parts: list[str], *,
                 converge: bool = False) -> None:
        """Make the job say what the options say: create it, or (``converge``) rewrite its config.xml.

        Without ``converge`` an existing job is accepted only when it already is the job dtm
        would create — a retry after a create whose answer was lost; anything else is a job
        dtm did not make, and dtm will not take it over.
        """
        name = "/".join(parts)
        wanted = job_settings(ctx.options)
        config = _config(wanted)
        current = jenkins.get_config(parts)
        if current is None:
            jenkins.ensure_folders(parts, folder_xml(FOLDER_DESCRIPTION))
            ctx.progress(f"creating pipeline job {name} for {wanted.repo_url} ({wanted.branch})")
            jenkins.create_item(parts, config)
            return
        try:
            found: JobSettings | None = parse_job(current)
        except JobConfigError:
            found = None
        if found == wanted:
            if not converge:
                ctx.progress(f"job {name} already exists as dtm would create it; keeping it")
            return
        if not converge:
            raise OperationError(
                f"a Jenkins job {name} already exists at {jenkins.shown} and dtm did not create it",
                hint="choose another job_name, or delete or rename that job in Jenkins first")
        if found is not None and found.job_type != PIPELINE_ROOT:
            # Jenkins cannot change an item's type through config.xml (updateByXml refuses it).
            raise OperationError(
                f"Jenkins item {name} at {jenkins.shown} is a <{found.job_type}>, not a Pipeline job",
                hint="delete it in Jenkins and run dtm again: dtm then creates the Pipeline job anew")
        ctx.progress(f"updating the configuration of job {name}")
        jenkins.update_config(parts, config)

    def _outputs(self, ctx: ToolContext, jenkins: JenkinsClient, parts: list[str], *, build: bool,
                 keep: bool = True) -> dict[str, Any]:
        outputs: dict[str, Any] = {"job_url": jenkins.job_url(parts), "job_name": "/".join(parts)}
        if keep and "build_number" in ctx.outputs:
            outputs["build_number"] = ctx.outputs["build_number"]
        if build:
            outputs["build_number"] = self._first_build(ctx, jenkins, parts)
        return outputs

    def _first_build(self, ctx: ToolContext, jenkins: JenkinsClient, parts: list[str]) -> int:
        """The number of the job's first build: one already run or queued counts (a retry), else start one."""
        name = "/".join(parts)
        seen = _build_seen(jenkins, parts)
        if seen is None:
            ctx.progress(f"starting the first build of {name}")
            # A trigger whose answer was lost may have queued the build: look before triggering again.
            seen = create_once(lambda: (False, jenkins.build(parts)), lambda: _build_seen(jenkins, parts),
                               what=f"starting the first build of {name}", progress=ctx.progress)
        started, number = seen
        if started:
            return number
        ctx.progress(f"waiting for the build of {name} to leave the queue")
        number = jenkins.wait_for_build(number, name)
        ctx.progress(f"build #{number} of {name} started")
        return number

    def _commit_starter(self, ctx: ToolContext) -> None:
        """Commit the starter Jenkinsfile when asked to and the repository has none; never overwrite."""
        if not ctx.options["starter_jenkinsfile"]:
            return
        repo, path, branch = str(ctx.options["repo_url"]), str(ctx.options["jenkinsfile_path"]), \
            str(ctx.options["branch"])
        scm = ctx.source_control(repo)
        if scm.read_file(repo, path, branch=branch, environ=ctx.environ) is not None:
            return
        language = str(ctx.options["language"])
        ctx.progress(f"committing a starter {path} ({language}) to {repo} on {branch}")
        scm.commit_files(CommitRequest(repo, {path: starter_jenkinsfile(language)},
                                       f"Add a starter {path} for the Jenkins pipeline (dtm)", branch=branch,
                                       environ=ctx.environ, progress=ctx.progress))


def _build_seen(jenkins: JenkinsClient, parts: list[str]) -> tuple[bool, int] | None:
    """``(True, build number)`` for a build that started, ``(False, queue id)`` for one waiting, else None."""
    info = jenkins.job_info(parts, "lastBuild[number],queueItem[id]") or {}
    last, queued = info.get("lastBuild"), info.get("queueItem")
    if isinstance(last, dict) and isinstance(last.get("number"), int):
        return True, int(last["number"])
    if isinstance(queued, dict) and isinstance(queued.get("id"), int):
        return False, int(queued["id"])
    return None
