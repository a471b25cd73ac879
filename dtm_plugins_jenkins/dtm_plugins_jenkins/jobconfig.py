"""Pipeline job config.xml: the Pipeline-from-Git job and the folders dtm writes, and reading one back.

A Pipeline job (``WorkflowJob``) is stored under the root element ``flow-definition``; a
Jenkinsfile read from Git is the definition ``CpsScmFlowDefinition`` with a ``GitSCM``. Jenkins
rewrites what it is sent (plugin versions, element order, defaults it adds), so a live
config.xml is compared with the one dtm would write by the settings parsed out of both
(:class:`JobSettings`), never as text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

PIPELINE_ROOT = "flow-definition"  # the XStream alias of org.jenkinsci.plugins.workflow.job.WorkflowJob
SCM_DEFINITION = "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition"
GIT_SCM = "hudson.plugins.git.GitSCM"
REMOTE = "hudson.plugins.git.UserRemoteConfig"
BRANCH_SPEC = "hudson.plugins.git.BranchSpec"
FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
FOLDER_VIEWS = "com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder"
XML_HEADER = "<?xml version='1.1' encoding='UTF-8'?>\n"  # what Jenkins' XmlFile writes

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# XML cannot carry these even escaped (1.0), or only as references ElementTree does not write (1.1).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class JobConfigError(ValueError):
    """A config.xml dtm cannot read, or a value that cannot go into one."""


@dataclass(frozen=True)
class JobSettings:
    """What dtm sets in a Pipeline job, named as the tool's options, plus how the job is made.

    ``job_type``, ``definition``, ``scm`` and ``lightweight`` are not options: dtm always
    writes a Pipeline job whose Jenkinsfile comes from Git, read without a full checkout.
    """

    repo_url: str | None
    branch: str | None
    jenkinsfile_path: str | None
    credentials_id: str | None
    description: str
    job_type: str = PIPELINE_ROOT
    definition: str | None = SCM_DEFINITION
    scm: str | None = GIT_SCM
    lightweight: bool = True

    def structural_drift(self) -> list[str]:
        """One line per way the job is not the kind dtm writes (a job changed by hand)."""
        if self.job_type != PIPELINE_ROOT:
            return [f"the job is not a Pipeline job (its config.xml is a <{self.job_type}>)"]
        lines = []
        if self.definition != SCM_DEFINITION:
            lines.append(f"the Pipeline script is not read from SCM (definition {self.definition})")
        elif self.scm != GIT_SCM:
            lines.append(f"the Pipeline does not check out with Git (scm {self.scm})")
        elif not self.lightweight:
            lines.append("lightweight checkout of the Jenkinsfile is off")
        return lines


def _checked(value: str, what: str) -> str:
    if _CONTROL.search(value):
        raise JobConfigError(f"{what} contains a control character, which config.xml cannot hold")
    return value


def _text(parent: ET.Element, tag: str, value: str, what: str = "") -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _checked(value, what or tag)
    return element


def _document(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    # ElementTree escapes &, < and > in text and quotes in attributes.
    return (XML_HEADER + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")


def pipeline_xml(settings: JobSettings) -> bytes:
    """The config.xml of a Pipeline job building ``settings.jenkinsfile_path`` from a Git branch."""
    if settings.repo_url is None or settings.branch is None or settings.jenkinsfile_path is None:
        raise JobConfigError("a Pipeline job needs a repository URL, a branch and a Jenkinsfile path")
    root = ET.Element(PIPELINE_ROOT)
    _text(root, "description", settings.description)
    _text(root, "keepDependencies", "false")
    ET.SubElement(root, "properties")
    definition = ET.SubElement(root, "definition", {"class": SCM_DEFINITION})
    scm = ET.SubElement(definition, "scm", {"class": GIT_SCM})
    _text(scm, "configVersion", "2")
    remote = ET.SubElement(ET.SubElement(scm, "userRemoteConfigs"), REMOTE)
    _text(remote, "url", settings.repo_url, "repo_url")
    if settings.credentials_id:
        _text(remote, "credentialsId", settings.credentials_id, "credentials_id")
    branch = ET.SubElement(ET.SubElement(scm, "branches"), BRANCH_SPEC)
    _text(branch, "name", f"*/{settings.branch}", "branch")
    _text(scm, "doGenerateSubmoduleConfigurations", "false")
    ET.SubElement(scm, "submoduleCfg", {"class": "empty-list"})
    ET.SubElement(scm, "extensions")
    _text(definition, "scriptPath", settings.jenkinsfile_path, "jenkinsfile_path")
    _text(definition, "lightweight", "true" if settings.lightweight else "false")
    ET.SubElement(root, "triggers")
    _text(root, "disabled", "false")
    return _document(root)


def folder_xml(description: str) -> bytes:
    """The config.xml of an empty folder (plugin cloudbees-folder)."""
    root = ET.Element(FOLDER)
    _text(root, "description", description)
    ET.SubElement(root, "properties")
    ET.SubElement(root, "folderViews", {"class": FOLDER_VIEWS})
    ET.SubElement(root, "healthMetrics")
    return _document(root)


def _parse(raw: bytes) -> ET.Element:
    """Parse without a DOCTYPE, so without entities (defusedxml is not a dependency)."""
    if _DOCTYPE.search(raw):
        raise JobConfigError("config.xml has a DOCTYPE, which dtm does not read")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as error:
        raise JobConfigError(f"config.xml is not well-formed XML ({error})") from error


def _stripped(value: str | None) -> str | None:
    return None if value is None else value.strip()


def branch_of(spec: str | None) -> str | None:
    """The branch a Git branch specifier names: ``*/main``, ``refs/heads/main`` and ``main`` are ``main``."""
    if spec is None:
        return None
    for prefix in ("*/", "refs/heads/", "origin/"):
        if spec.startswith(prefix):
            return spec[len(prefix):]
    return spec


def parse_job(raw: bytes) -> JobSettings:
    """The settings of a live config.xml (first remote and first branch; absent ones are None)."""
    root = _parse(raw)
    description = root.findtext("description") or ""
    if root.tag != PIPELINE_ROOT:
        return JobSettings(None, None, None, None, description, job_type=root.tag, definition=None, scm=None,
                           lightweight=False)
    definition = root.find("definition")
    if definition is None or definition.get("class") != SCM_DEFINITION:
        return JobSettings(None, None, None, None, description,
                           definition=None if definition is None else definition.get("class"),
                           scm=None, lightweight=False)
    scm = definition.find("scm")
    remote = scm.find(f"userRemoteConfigs/{REMOTE}") if scm is not None else None
    branch = scm.find(f"branches/{BRANCH_SPEC}") if scm is not None else None
    credentials = _stripped(remote.findtext("credentialsId")) if remote is not None else None
    return JobSettings(
        repo_url=_stripped(remote.findtext("url")) if remote is not None else None,
        branch=branch_of(_stripped(branch.findtext("name"))) if branch is not None else None,
        jenkinsfile_path=_stripped(definition.findtext("scriptPath")),
        credentials_id=credentials or None,
        description=description,
        scm=None if scm is None else scm.get("class"),
        lightweight=(definition.findtext("lightweight") or "").strip() == "true",
    )
