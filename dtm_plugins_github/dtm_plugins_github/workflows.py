"""The workflow files github-actions writes: lint and CI per language, plus an optional image job."""

from __future__ import annotations

import json

from dtm_core import OperationError

from .templates import render, template_text

LANGUAGES = ("python", "go", "node", "java")
WORKFLOW_DIR = ".github/workflows"
WORKFLOWS = ("ci.yml", "lint.yml")
GHCR = "ghcr.io"
#: Secrets the image job logs in with, for any registry but ghcr.io (which takes GITHUB_TOKEN).
REGISTRY_SECRETS = ("REGISTRY_USERNAME", "REGISTRY_PASSWORD")


def registry_of(image: str) -> str | None:
    """The registry host of an image name, or None for Docker Hub (``acme/app``)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def check_image(image: str, secrets: set[str]) -> None:
    """Refuse an image the workflow could not push, before anything is written."""
    if not image or any(c.isspace() for c in image) or ":" in image.rsplit("/", 1)[-1]:
        raise OperationError(f"image {image!r} is not an image name such as ghcr.io/OWNER/NAME",
                             hint="give the name without a tag: the workflow tags each image with "
                             "the commit sha and latest")
    if registry_of(image) != GHCR and not set(REGISTRY_SECRETS) <= secrets:
        raise OperationError(
            f"pushing {image} needs the secrets {' and '.join(REGISTRY_SECRETS)}",
            hint="add them to the secrets option (REGISTRY_USERNAME: env:..., REGISTRY_PASSWORD: "
            "env:...), or push to ghcr.io, which the workflow's own GITHUB_TOKEN may write to")


def _login(image: str) -> str:
    registry = registry_of(image)
    pad = " " * 10
    if registry == GHCR:
        lines = [f"registry: {GHCR}", "username: ${{ github.actor }}",
                 "password: ${{ secrets.GITHUB_TOKEN }}"]
    else:
        lines = ([f"registry: {registry}"] if registry else []) + [
            "username: ${{ secrets.REGISTRY_USERNAME }}", "password: ${{ secrets.REGISTRY_PASSWORD }}"]
    return "\n".join(pad + line for line in lines)


def _image_job(image: str | None) -> str:
    if not image:
        return ""
    # ghcr.io wants lower-case names; other registries refuse upper case too.
    return render(template_text("workflows", "image-job.yml"),
                  {"login": _login(image), "image": image.lower()})


def workflow_files(language: str, *, branch: str, address: str, image: str | None) -> dict[str, bytes]:
    """The workflow files by path in the repository (``.github/workflows/ci.yml`` …)."""
    values = {"branch": json.dumps(branch), "address": address, "image_job": _image_job(image)}
    files = {}
    for name in WORKFLOWS:
        text = render(template_text("workflows", language, name), values).rstrip("\n") + "\n"
        files[f"{WORKFLOW_DIR}/{name}"] = text.encode()
    return files
