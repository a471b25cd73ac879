"""Fixtures for the Jenkins emulator tests: a running emulator, httpx clients, python-jenkins, config.xml.

``emulator`` (per test) -> ``JenkinsEmulator``
    Started with the defaults (user ``admin``/``admin``, crumbs on, ready at once), stopped after.
``token`` -> admin's API token (generated on first use).
``client`` (per test) -> ``httpx.Client``
    Talks to ``emulator`` as admin with the *password*; keeps cookies; non-2xx answers do not raise
    and redirects are not followed.
``token_client`` -> the same, authenticated with admin's API token.
``crumb`` -> ``crumb(client) -> dict``: fetches a crumb through ``client`` (whose cookie jar keeps the
    session) and returns the header to send it with.
``python_jenkins`` -> ``python_jenkins(auth) -> jenkins.Jenkins`` with ``auth`` ``"password"`` or
    ``"token"``; ``crumb_lookup=False`` stops python-jenkins from fetching crumbs at all.
``xml`` (session) -> ``Configs``: config.xml bodies (inline Pipeline, Pipeline from Git, parameterized,
    disabled, folder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import jenkins
import pytest

from dtm_core.emulators.jenkins import JenkinsEmulator

PIPELINE = """<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@1540.v295eccc9778f">
  <description>created by dtm</description>
  <keepDependencies>false</keepDependencies>
  <properties/>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">
    <script>pipeline { agent any; stages { stage('hello') { steps { echo 'hi' } } } }</script>
    <sandbox>true</sandbox>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>
"""

SCM_PIPELINE = """<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@1540.v295eccc9778f">
  <description>built from Git</description>
  <keepDependencies>false</keepDependencies>
  <properties/>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition">
    <scm class="hudson.plugins.git.GitSCM" plugin="git@5.7.0">
      <configVersion>2</configVersion>
      <userRemoteConfigs>
        <hudson.plugins.git.UserRemoteConfig>
          <url>https://github.com/acme/app.git</url>
        </hudson.plugins.git.UserRemoteConfig>
      </userRemoteConfigs>
      <branches>
        <hudson.plugins.git.BranchSpec>
          <name>*/main</name>
        </hudson.plugins.git.BranchSpec>
      </branches>
      <doGenerateSubmoduleConfigurations>false</doGenerateSubmoduleConfigurations>
      <submoduleCfg class="empty-list"/>
      <extensions/>
    </scm>
    <scriptPath>Jenkinsfile</scriptPath>
    <lightweight>true</lightweight>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>
"""

PARAMETERIZED = """<?xml version='1.1' encoding='UTF-8'?>
<flow-definition>
  <description>takes parameters</description>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>BRANCH</name>
          <description>what to build</description>
          <defaultValue>main</defaultValue>
          <trim>false</trim>
        </hudson.model.StringParameterDefinition>
        <hudson.model.BooleanParameterDefinition>
          <name>DEPLOY</name>
          <defaultValue>false</defaultValue>
        </hudson.model.BooleanParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">
    <script>echo params.BRANCH</script>
    <sandbox>true</sandbox>
  </definition>
  <disabled>false</disabled>
</flow-definition>
"""

FOLDER = """<?xml version='1.1' encoding='UTF-8'?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder@6.1012.v79a_86a_1ea_c1f">
  <description>team folder</description>
  <properties/>
  <folderViews class="com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder"/>
  <healthMetrics/>
</com.cloudbees.hudson.plugins.folder.Folder>
"""


@dataclass(frozen=True)
class Configs:
    pipeline: str = PIPELINE
    scm_pipeline: str = SCM_PIPELINE
    parameterized: str = PARAMETERIZED
    disabled: str = PIPELINE.replace("<disabled>false</disabled>", "<disabled>true</disabled>")
    folder: str = FOLDER


@pytest.fixture(scope="session")
def xml() -> Configs:
    return Configs()


@pytest.fixture
def emulator() -> Iterator[JenkinsEmulator]:
    with JenkinsEmulator() as running:
        yield running


@pytest.fixture
def token(emulator: JenkinsEmulator) -> str:
    return emulator.api_token("admin")


def _client(emulator: JenkinsEmulator, secret: str) -> httpx.Client:
    return httpx.Client(base_url=emulator.url, auth=("admin", secret), timeout=10)


@pytest.fixture
def client(emulator: JenkinsEmulator) -> Iterator[httpx.Client]:
    with _client(emulator, "admin") as opened:
        yield opened


@pytest.fixture
def token_client(emulator: JenkinsEmulator, token: str) -> Iterator[httpx.Client]:
    with _client(emulator, token) as opened:
        yield opened


@pytest.fixture
def crumb() -> Callable[[httpx.Client], dict[str, str]]:
    def fetch(through: httpx.Client) -> dict[str, str]:
        issued = through.get("crumbIssuer/api/json")
        assert issued.status_code == 200, issued.text
        body = issued.json()
        return {body["crumbRequestField"]: body["crumb"]}

    return fetch


@pytest.fixture
def python_jenkins(emulator: JenkinsEmulator) -> Iterator[Callable[..., jenkins.Jenkins]]:
    opened: list[jenkins.Jenkins] = []

    def connect(auth: str, *, crumb_lookup: bool = True) -> jenkins.Jenkins:
        secret = emulator.api_token("admin") if auth == "token" else "admin"
        server = jenkins.Jenkins(emulator.url, username="admin", password=secret, timeout=10)
        if not crumb_lookup:
            server.crumb = False  # python-jenkins' own switch: "this server issues no crumbs"
        opened.append(server)
        return server

    yield connect
    for server in opened:
        server._session.close()  # its keep-alive connections would otherwise outlive the emulator
