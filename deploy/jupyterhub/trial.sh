#!/usr/bin/env bash
# Try the class on this machine with one command (as root): install, three trial users, the hub
# on http://127.0.0.1:PORT in the foreground (Ctrl-C stops it and every server it started).
#
#   deploy/jupyterhub/trial.sh [--prefix DIR] [--port PORT]   # default /opt/cnncourse-trial, 8000
#   deploy/jupyterhub/trial.sh [--prefix DIR] --remove        # take the trial users and their homes away
#
# Log in as trial-teacher (formgrader: Nbgrader > Formgrader), trial-student1 or trial-student2
# (Nbgrader > Assignment List) with the password printed at start (or CNNCOURSE_SHARED_PASSWORD).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX=/opt/cnncourse-trial
PORT=8000
REMOVE=""
need_value() { [ "$2" -ge 2 ] || { echo "trial.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) need_value "$1" $#; PREFIX="$2"; shift 2 ;;
        --port) need_value "$1" $#; PORT="$2"; shift 2 ;;
        --remove) REMOVE=1; shift ;;
        *) echo "trial.sh: unknown argument '$1'; expected --prefix DIR, --port PORT or --remove" >&2; exit 2 ;;
    esac
done
USERS=(trial-teacher trial-student1 trial-student2)

if [ -n "$REMOVE" ]; then
    exec "$HERE/adduser.sh" --prefix "$PREFIX" remove "${USERS[@]}"
fi

"$HERE/install.sh" --prefix "$PREFIX" --exchange "$PREFIX/exchange"
"$HERE/adduser.sh" --prefix "$PREFIX" instructor "${USERS[0]}"
"$HERE/adduser.sh" --prefix "$PREFIX" student "${USERS[1]}" "${USERS[2]}"
PASSWORD="${CNNCOURSE_SHARED_PASSWORD:-$(head -c 9 /dev/urandom | base64 | tr '+/' 'xy')}"
cat <<MESSAGE

Open http://127.0.0.1:$PORT and log in as ${USERS[*]} with the password: $PASSWORD
Every Lab opens on notebooks/00_start_here.ipynb, in the user's own copy of the chapters.
The instructor releases ps1 from Nbgrader > Formgrader; students fetch it from Nbgrader > Assignment List.
Grading, in trial-teacher's terminal: cnncourse-autograder grade ps1 --course ~/cnncourse
Ctrl-C stops the hub; then '$0 --prefix $PREFIX --remove' removes the trial users.

MESSAGE
cd "$PREFIX/state"
# Only these settings reach the hub; the internal ports may be moved off 8081 and 8001.
exec env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME="$PREFIX/state" \
    CNNCOURSE_HUB_IP=127.0.0.1 CNNCOURSE_HUB_PORT="$PORT" CNNCOURSE_SHARED_PASSWORD="$PASSWORD" \
    ${CNNCOURSE_HUB_API_PORT:+CNNCOURSE_HUB_API_PORT="$CNNCOURSE_HUB_API_PORT"} \
    ${CNNCOURSE_PROXY_API_PORT:+CNNCOURSE_PROXY_API_PORT="$CNNCOURSE_PROXY_API_PORT"} \
    "$PREFIX/env/bin/jupyterhub" -f "$PREFIX/etc/jupyterhub_config.py"
