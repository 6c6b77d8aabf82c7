#!/usr/bin/env bash
# Install the cnncourse class on this machine for JupyterHub (run as root; safe to rerun).
#
#   deploy/jupyterhub/install.sh [--prefix DIR] [--exchange DIR] [--python PYTHON]
#
# PREFIX (default /opt/cnncourse) receives, readable by every user and writable only by root:
#   src/   a copy of the course: the library, the autograder, the chapters (notebooks/, which every
#          user's server copies into ~/notebooks at start), course/source and its nbgrader config
#   env/   a virtual environment made from a system Python (>= 3.10) with cnncourse[hub] installed;
#          env/etc/jupyter/nbgrader_config.py gives every user the course id and the exchange;
#          env/bin/cnncourse-singleuser starts every user's server; env/share/jupyter/lab/settings
#          turns off the Lab's news question and update check
#   node/  configurable-http-proxy (npm, pinned), the hub's proxy
#   etc/   jupyterhub_config.py, the roster (who teaches, who studies), per-role Jupyter config
#   state/ the hub's database and cookie secret (root only)
# EXCHANGE (default /srv/nbgrader/exchange) is nbgrader's exchange, mode 0777 as nbgrader requires.
# A Python under a mode-0700 home (pyenv under /root, say) cannot serve other users, hence the
# system Python. Users are added with deploy/jupyterhub/adduser.sh; see deploy/jupyterhub/README.md.
set -euo pipefail

PREFIX=/opt/cnncourse
EXCHANGE=/srv/nbgrader/exchange
PYTHON=/usr/bin/python3  # the distribution's, readable by every user
CHP_VERSION=5.3.0
need_value() { [ "$2" -ge 2 ] || { echo "install.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) need_value "$1" $#; PREFIX="$2"; shift 2 ;;
        --exchange) need_value "$1" $#; EXCHANGE="$2"; shift 2 ;;
        --python) need_value "$1" $#; PYTHON="$2"; shift 2 ;;
        *) echo "install.sh: unknown argument '$1'; expected --prefix DIR, --exchange DIR or --python PYTHON" >&2
           exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (it creates $PREFIX and $EXCHANGE and the hub spawns servers as other users)" >&2
    exit 1
fi
case "$PREFIX$EXCHANGE" in
    *@*|*'|'*) echo "install.sh: --prefix and --exchange may not contain '@' or '|'" >&2; exit 2 ;;
esac
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "install.sh: --python $PYTHON is not Python >= 3.10; install python3 (and python3-venv) first" >&2
    exit 1
fi
command -v npm >/dev/null || { echo "install.sh: npm not found; install nodejs and npm first" >&2; exit 1; }

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
umask 022
mkdir -p "$PREFIX/etc" "$PREFIX/state"
chmod 755 "$PREFIX"
chmod 700 "$PREFIX/state"

echo "== course sources -> $PREFIX/src"
rm -rf "$PREFIX/src.new"
mkdir "$PREFIX/src.new"
tar -C "$REPO" --exclude=__pycache__ --exclude=.ipynb_checkpoints -cf - \
    pyproject.toml README.md LICENSE src autograder notebooks course/nbgrader_config.py course/source \
    | tar -C "$PREFIX/src.new" -xf -
rm -rf "$PREFIX/src"
mv "$PREFIX/src.new" "$PREFIX/src"

# The third-party packages are reinstalled only when the Python or the pins changed; the
# library itself (seconds) on every run.
stamp="$( (readlink -f "$(command -v "$PYTHON")"; sha256sum < "$PREFIX/src/pyproject.toml") | sha256sum | cut -c1-16)"
if [ "$(cat "$PREFIX/env/.cnncourse-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "== environment -> $PREFIX/env (from $("$PYTHON" -c 'import sys; print(sys.executable)'))"
    rm -rf "$PREFIX/env"
    "$PYTHON" -m venv "$PREFIX/env"
    "$PREFIX/env/bin/pip" install --quiet --disable-pip-version-check "$PREFIX/src[hub]"
    echo "$stamp" > "$PREFIX/env/.cnncourse-stamp"
else
    echo "== environment $PREFIX/env has the pinned packages; reinstalling cnncourse"
    "$PREFIX/env/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall "$PREFIX/src"
fi
rm -rf "$PREFIX/src/build" "$PREFIX"/src/src/*.egg-info

if [ "$("$PREFIX/node/node_modules/.bin/configurable-http-proxy" --version 2>/dev/null)" != "$CHP_VERSION" ]; then
    echo "== configurable-http-proxy $CHP_VERSION -> $PREFIX/node"
    npm install --silent --no-audit --no-fund --prefix "$PREFIX/node" "configurable-http-proxy@$CHP_VERSION"
fi

echo "== configuration -> $PREFIX/etc, $PREFIX/env/etc/jupyter"
render() {  # render TEMPLATE DEST: fill in the install's paths
    sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@EXCHANGE@|$EXCHANGE|g" "$1" > "$2"
}
render "$HERE/nbgrader_config.py" "$PREFIX/env/etc/jupyter/nbgrader_config.py"
cp "$HERE/jupyterhub_config.py" "$PREFIX/etc/jupyterhub_config.py"
render "$HERE/course_nbgrader_config.py" "$PREFIX/etc/course_nbgrader_config.py"
rm -rf "$PREFIX/etc/jupyter"
cp -r "$HERE/jupyter" "$PREFIX/etc/jupyter"
touch "$PREFIX/etc/roster"
# The instructor's grading command, from any folder: cnncourse-autograder grade ps1 --course ~/cnncourse
cat > "$PREFIX/env/bin/cnncourse-autograder" <<SCRIPT
#!/bin/sh
# python -m autograder from the course sources installed in $PREFIX/src (see its --help).
PYTHONPATH="$PREFIX/src\${PYTHONPATH:+:\$PYTHONPATH}" exec "$PREFIX/env/bin/python" -m autograder "\$@"
SCRIPT
chmod 755 "$PREFIX/env/bin/cnncourse-autograder"
# Every user's server starts with this: it copies the chapters they lack into ~/notebooks.
sed -e "1s|.*|#!$PREFIX/env/bin/python|" -e "s|@PREFIX@|$PREFIX|g" "$HERE/singleuser.py" \
    > "$PREFIX/env/bin/cnncourse-singleuser"
chmod 755 "$PREFIX/env/bin/cnncourse-singleuser"
# JupyterLab's settings for everyone, as make lab's: it asks no "Jupyter news?" question and
# checks for no updates (LabApp.news_url only stops the server's fetch; the Lab asks regardless).
install -D -m 644 "$REPO/jupyter/labconfig/default_setting_overrides.json" \
    "$PREFIX/env/share/jupyter/lab/settings/overrides.d/cnncourse.json"
chmod -R a+rX "$PREFIX/src" "$PREFIX/env" "$PREFIX/node" "$PREFIX/etc"

# Every user runs this environment: check that an unprivileged user can.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@" 2>/dev/null; }
if ! as_nobody test -r "$(readlink -f "$PREFIX/env/bin/python")" \
        || ! as_nobody "$PREFIX/env/bin/python" -c "import cnncourse, nbgrader"; then
    echo "install.sh: user 'nobody' cannot import cnncourse from $PREFIX/env; is $PYTHON under a private" \
         "home (mode 0700)? pass --python with a system Python" >&2
    exit 1
fi

echo "== exchange -> $EXCHANGE"
mkdir -p "$EXCHANGE"
chmod 0777 "$EXCHANGE"
echo "installed; add users with $HERE/adduser.sh --prefix $PREFIX, start with $PREFIX/env/bin/jupyterhub -f $PREFIX/etc/jupyterhub_config.py"
