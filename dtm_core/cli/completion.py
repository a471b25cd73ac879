"""``dtm completion SHELL``: print the shell completion script click generates for dtm."""

from __future__ import annotations

import click


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print a completion script for SHELL.

    \b
    bash:  eval "$(dtm completion bash)"   (add to ~/.bashrc)
    zsh:   eval "$(dtm completion zsh)"    (add to ~/.zshrc)
    fish:  dtm completion fish > ~/.config/fish/completions/dtm.fish
    """
    from click.shell_completion import get_completion_class

    from . import cli

    cls = get_completion_class(shell)
    assert cls is not None  # click knows every choice above
    click.echo(cls(cli, {}, "dtm", "_DTM_COMPLETE").source())
