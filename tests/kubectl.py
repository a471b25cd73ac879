"""The real kubectl as a second client in tests: isolated HOME, kubeconfig and discovery cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

KUBECTL = Path("/usr/bin/kubectl")


class Kubectl:
    """The real kubectl, isolated: its own HOME, kubeconfig and discovery cache."""

    def __init__(self, home: Path, kubeconfig: Path) -> None:
        self.home = home
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, timeout: float = 30, stdin: str | None = None
                 ) -> subprocess.CompletedProcess[str]:
        env = {"HOME": str(self.home), "PATH": "/usr/bin:/bin", "KUBECONFIG": str(self.kubeconfig)}
        command = [str(KUBECTL), "--cache-dir", str(self.home / "cache"), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, input=stdin,
                              check=False)

    def ok(self, *args: str, timeout: float = 30, stdin: str | None = None) -> str:
        """Run and assert success; return stdout."""
        result = self(*args, timeout=timeout, stdin=stdin)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout
