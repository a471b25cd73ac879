"""Reading an item's config.xml as Jenkins does: safe parsing, the item type, the settings the API shows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
WORKFLOW_JOB = "org.jenkinsci.plugins.workflow.job.WorkflowJob"
FREESTYLE = "hudson.model.FreeStyleProject"

# XStream aliases Jenkins registers for job types (Items.XSTREAM2.alias); any other root element must be
# a fully qualified class name, as XStream writes for types without an alias (the Folder, for example).
ALIASES = {
    "flow-definition": WORKFLOW_JOB,
    "project": FREESTYLE,
    "matrix-project": "hudson.matrix.MatrixProject",
    "maven2-moduleset": "hudson.maven.MavenModuleSet",
}
RUN_CLASSES = {
    WORKFLOW_JOB: "org.jenkinsci.plugins.workflow.job.WorkflowRun",
    FREESTYLE: "hudson.model.FreeStyleBuild",
    "hudson.matrix.MatrixProject": "hudson.matrix.MatrixBuild",
    "hudson.maven.MavenModuleSet": "hudson.maven.MavenModuleSetBuild",
}
PARAMETERS_PROPERTY = "hudson.model.ParametersDefinitionProperty"
NO_CONCURRENT = "org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty"

# Empty items for the form ``createItem?mode=<type>`` (what the "New Item" page creates before configuring).
BLANK = {
    FOLDER: f"<?xml version='1.1' encoding='UTF-8'?>\n<{FOLDER}>\n  <description></description>\n"
            f"  <properties/>\n  <healthMetrics/>\n</{FOLDER}>\n",
    WORKFLOW_JOB: "<?xml version='1.1' encoding='UTF-8'?>\n<flow-definition>\n  <description></description>\n"
                  "  <keepDependencies>false</keepDependencies>\n  <properties/>\n  <triggers/>\n"
                  "  <disabled>false</disabled>\n</flow-definition>\n",
    FREESTYLE: "<?xml version='1.1' encoding='UTF-8'?>\n<project>\n  <description></description>\n"
               "  <keepDependencies>false</keepDependencies>\n  <properties/>\n"
               "  <scm class=\"hudson.scm.NullSCM\"/>\n  <canRoam>true</canRoam>\n"
               "  <disabled>false</disabled>\n"
               "  <triggers/>\n  <concurrentBuild>false</concurrentBuild>\n  <builders/>\n  <publishers/>\n"
               "  <buildWrappers/>\n</project>\n",
}

XML_HEADER = "<?xml version='1.1' encoding='UTF-8'?>\n"  # XmlFile.write
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class ConfigError(Exception):
    """config.xml that Jenkins would refuse to read (not well-formed, a DOCTYPE, not UTF-8)."""


class UnknownType(Exception):
    """A root element XStream cannot map to a class (``CannotResolveClassException``)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # the definition's class, e.g. hudson.model.StringParameterDefinition
    default: str
    description: str


@dataclass(frozen=True)
class ItemConfig:
    """What the emulator reads from one config.xml."""

    text: str
    item_class: str
    description: str | None
    disabled: bool
    keep_dependencies: bool
    concurrent: bool
    parameters: tuple[Parameter, ...] | None  # None: not parameterized
    auth_token: str | None

    @property
    def is_folder(self) -> bool:
        return self.item_class == FOLDER


def parse_xml(raw: bytes) -> ET.Element:
    """Parse like ``XMLUtils.safeTransform``: no DOCTYPE, so no entities (defusedxml is not a dependency)."""
    if _DOCTYPE.search(raw):
        raise ConfigError("DOCTYPE is disallowed")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as error:
        raise ConfigError(str(error)) from error


def read_config(raw: bytes) -> ItemConfig:
    root = parse_xml(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(str(error)) from error
    tag = root.tag
    item_class = ALIASES.get(tag, tag)
    if "." not in item_class or "{" in item_class:
        raise UnknownType(tag)
    properties = root.find("properties")
    parameters = None
    concurrent = root.findtext("concurrentBuild", "").strip() == "true"
    if item_class == WORKFLOW_JOB:
        concurrent = properties is None or properties.find(NO_CONCURRENT) is None
    if properties is not None:
        definitions = properties.find(PARAMETERS_PROPERTY)
        if definitions is not None:
            parameters = tuple(_parameter(element)
                               for element in definitions.findall("parameterDefinitions/*"))
    token = root.findtext("authToken")
    return ItemConfig(
        text=text, item_class=item_class, description=root.findtext("description"),
        disabled=root.findtext("disabled", "").strip() == "true",
        keep_dependencies=root.findtext("keepDependencies", "").strip() == "true",
        concurrent=concurrent, parameters=parameters, auth_token=token.strip() if token else None)


def _parameter(element: ET.Element) -> Parameter:
    default = element.findtext("defaultValue")
    if default is None:  # a choice parameter defaults to its first choice
        default = next((choice.text or "" for choice in element.iter("string")), "")
    return Parameter(name=element.findtext("name", "").strip(), kind=element.tag, default=default,
                     description=element.findtext("description", ""))


def with_disabled(text: str, disabled: bool) -> str:
    """config.xml with the item's own ``<disabled>`` set, written out again as Jenkins' ``save()`` does."""
    root = parse_xml(text.encode("utf-8"))
    element = root.find("disabled")
    if element is None:
        element = ET.SubElement(root, "disabled")
    element.text = "true" if disabled else "false"
    return XML_HEADER + ET.tostring(root, encoding="unicode") + "\n"
