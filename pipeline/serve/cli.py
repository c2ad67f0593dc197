"""``ivp serve FOLDER [--port N] [--host H] [--open]`` (registered on the ``ivp`` group in
:mod:`pipeline.cli`): uvicorn running :func:`.app.create_app` on 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import ipaddress
import secrets
import sys
import webbrowser
from pathlib import Path

import click

from ..recording import display
from ..sidecar import find_sidecars
from .app import Served, create_app

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, explicit: bool) -> None:
    """Only loopback unless ``--host`` names another address; then say loudly what that means."""
    if is_loopback(host):
        return
    if not explicit:
        raise click.UsageError(f"{host}: not a loopback address; pass --host {host} to serve beyond this machine")
    click.echo(f"WARNING: serving on {host}, beyond this machine: anyone who can reach it and has the "
               f"address printed below (with its token) can read every transcript and change it", err=True)


@click.command("serve")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default=None, metavar="H",
              help=f"Address to listen on (default {LOOPBACK}, this machine only). Another address serves the "
                   "folder to the network: only when asked for here.")
@click.option("--open", "open_browser", is_flag=True, help="Open the overview in the web browser.")
def serve(folder: Path, port: int, host, open_browser: bool) -> None:
    """Serve FOLDER's report to correct and annotate it in the browser: name speakers, set roles,
    correct words, add tagged highlights, rename/merge/hide themes. Changes are saved at once
    beside each recording (<name>.edits.json) and kept when it is processed again."""
    import uvicorn  # lazy: the server only for ivp serve

    explicit = host is not None
    host = host or LOOPBACK
    check_host(host, explicit)
    folder = folder.resolve()
    found, _ = find_sidecars(folder, exclude=folder / "ivp-report")
    if not found:
        click.echo(f"warning: {display(folder)}: no sidecars yet (run ivp process first); serving anyway", err=True)
    token = secrets.token_urlsafe(24)
    shown = LOOPBACK if host in ("0.0.0.0", "::") else host
    # the Host header must name this server (no DNS rebinding onto 127.0.0.1); every address of the
    # machine is fine once a person asked for all of them (0.0.0.0 / ::): the token still guards it
    hosts = ["*"] if host in ("0.0.0.0", "::") else sorted({LOOPBACK, "localhost", host})
    app = create_app(Served(folder, token, hosts))

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if not self.started:
                return
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            url = f"http://{f'[{shown}]' if ':' in shown else shown}:{bound}/?token={token}"
            click.echo(f"serving {display(folder)} at {url}")
            click.echo("changes are saved at once; press Ctrl+C to stop")
            sys.stdout.flush()
            if open_browser:
                webbrowser.open(url)

    Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")).run()
