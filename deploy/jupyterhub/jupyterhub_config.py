"""JupyterHub configuration of the cnncourse class on one machine (install.sh copies it to PREFIX/etc).

Everyone on the roster (PREFIX/etc/roster, written by adduser.sh) is a local Unix user; the hub
runs as root and starts each user's JupyterLab as that user, from the shared read-only
environment PREFIX/env. Instructors get the formgrader on ~/cnncourse; students get the
Assignment List only. Settings for one run come from the environment:

    CNNCOURSE_HUB_IP            address of the public proxy (default: all interfaces)
    CNNCOURSE_HUB_PORT          its port (default 8000)
    CNNCOURSE_HUB_API_PORT      the hub's internal API port (default 8081)
    CNNCOURSE_PROXY_API_PORT    the proxy's control port on 127.0.0.1 (default 8001)
    CNNCOURSE_STATE             where the hub keeps its database and secrets (default PREFIX/state)
    CNNCOURSE_SHARED_PASSWORD   one password for every user on the roster (a trial); unset: each
                                user's own Unix password (PAM), what a real class uses
    CNNCOURSE_API_TOKEN         if set, a service "cnncourse-admin" with this token may manage
                                users and servers and reach every server (scripts, tests)
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets when it executes this file)

PREFIX = Path(__file__).resolve().parents[1]
ENV = PREFIX / "env"
STATE = Path(os.environ.get("CNNCOURSE_STATE", PREFIX / "state"))
ROSTER = PREFIX / "etc" / "roster"


def read_roster(path: Path) -> dict[str, str]:
    """``{user: role}`` from lines ``instructor NAME`` / ``student NAME`` (``#`` starts a comment)."""
    roles = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2 or words[0] not in ("instructor", "student"):
            raise ValueError(f"{path}:{number}: expected 'instructor NAME' or 'student NAME', got {line!r}")
        roles[words[1]] = words[0]
    return roles


ROLES = read_roster(ROSTER)

# The public proxy, the hub's own API and the proxy's control API.
c.JupyterHub.ip = os.environ.get("CNNCOURSE_HUB_IP", "")
c.JupyterHub.port = int(os.environ.get("CNNCOURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("CNNCOURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('CNNCOURSE_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(PREFIX / "node" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
# Stopping the hub stops the proxy and every user's server.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Who may log in: the roster, with a shared password for a trial or their Unix password.
c.Authenticator.allowed_users = set(ROLES)
shared_password = os.environ.get("CNNCOURSE_SHARED_PASSWORD")
if shared_password:
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = shared_password
else:
    c.JupyterHub.authenticator_class = "pam"

api_token = os.environ.get("CNNCOURSE_API_TOKEN")
if api_token:
    c.JupyterHub.services = [{"name": "cnncourse-admin", "api_token": api_token}]
    c.JupyterHub.load_roles = [{
        "name": "cnncourse-admin",
        "scopes": ["admin:users", "admin:servers", "access:servers", "tokens"],
        "services": ["cnncourse-admin"],
    }]

# Each user's JupyterLab, as that Unix user, from the shared environment. PATH names the
# environment's bin/ because nbgrader runs `alembic` by name; nothing else leaks from the hub.
# cnncourse-singleuser (deploy/jupyterhub/singleuser.py) first copies the chapters the user
# lacks into ~/notebooks (never over their own copy), then runs jupyterhub-singleuser; the Lab
# opens on the start page.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENV / "bin" / "cnncourse-singleuser")]
c.Spawner.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.Spawner.notebook_dir = "~"
c.Spawner.env_keep = ["LANG", "LC_ALL"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {"PATH": f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin"}


def role_config(spawner) -> None:
    """Give the user's server the Jupyter configuration of their role, then the class's.

    PREFIX/etc/jupyter/ROLE (instructor: the formgrader on ~/cnncourse; student: no formgrader)
    and PREFIX/etc/jupyter/class (the server fetches no news and checks for no updates) come
    before the environment's own. Whether the Lab asks about news is a Lab setting, turned off
    for everyone in PREFIX/env/share/jupyter/lab/settings/overrides.d/cnncourse.json.
    """
    role = ROLES.get(spawner.user.name, "student")
    config_path = f"{PREFIX / 'etc' / 'jupyter' / role}:{PREFIX / 'etc' / 'jupyter' / 'class'}"
    spawner.environment = {**spawner.environment, "JUPYTER_CONFIG_PATH": config_path}


c.Spawner.pre_spawn_hook = role_config
