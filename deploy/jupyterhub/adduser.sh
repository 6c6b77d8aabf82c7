#!/usr/bin/env bash
# Add people to the class (run as root after install.sh), or take them off it.
#
#   deploy/jupyterhub/adduser.sh [--prefix DIR] instructor NAME...   # course directory ~/cnncourse
#   deploy/jupyterhub/adduser.sh [--prefix DIR] student NAME...
#   deploy/jupyterhub/adduser.sh [--prefix DIR] remove NAME...       # the Unix user, its home, its roster line
#
# Each NAME becomes a local Unix user (created if missing) whose home is private (mode 0700:
# `useradd -m` makes homes world-readable) and a line of PREFIX/etc/roster, which the hub reads
# to allow logins and to pick each user's Jupyter configuration.
set -euo pipefail
# useradd and userdel live in sbin, which a minimal root PATH may lack.
PATH="/usr/local/sbin:/usr/sbin:/sbin:$PATH"

PREFIX=/opt/cnncourse
need_value() { [ "$2" -ge 2 ] || { echo "adduser.sh: $1 needs a value" >&2; exit 2; }; }
if [ "${1:-}" = "--prefix" ]; then need_value "$1" $#; PREFIX="$2"; shift 2; fi
ROLE="${1:-}"
shift || true
case "$ROLE" in
    instructor|student|remove) ;;
    *) echo "adduser.sh: expected a role 'instructor', 'student' or 'remove' and then names, got '$ROLE'" >&2
       exit 2 ;;
esac
[ $# -gt 0 ] || { echo "adduser.sh: no NAME given after '$ROLE'" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "adduser.sh: run as root" >&2; exit 1; }
ROSTER="$PREFIX/etc/roster"
[ -f "$ROSTER" ] || { echo "adduser.sh: no $ROSTER; run install.sh --prefix $PREFIX first" >&2; exit 1; }

drop_from_roster() {
    local tmp
    tmp="$(mktemp "$ROSTER.XXXXXX")"
    awk -v who="$1" '$2 != who' "$ROSTER" > "$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$ROSTER"
}

for name in "$@"; do
    if ! [[ "$name" =~ ^[a-z_][a-z0-9_-]{0,30}$ ]]; then
        echo "adduser.sh: '$name' is not a portable Unix user name (lowercase letters, digits, _ and -)" >&2
        exit 2
    fi
    if [ "$ROLE" = remove ]; then
        drop_from_roster "$name"
        if id "$name" >/dev/null 2>&1; then
            pkill -KILL -u "$name" 2>/dev/null || true  # this user's own processes only
            userdel --remove "$name" 2>/dev/null || userdel "$name"
        fi
        echo "removed $name"
        continue
    fi
    id "$name" >/dev/null 2>&1 || useradd --create-home --user-group --shell /bin/bash "$name"
    home="$(getent passwd "$name" | cut -d: -f6)"
    chmod 0700 "$home"
    drop_from_roster "$name"
    echo "$ROLE $name" >> "$ROSTER"
    if [ "$ROLE" = instructor ] && [ ! -e "$home/cnncourse" ]; then
        mkdir "$home/cnncourse"
        cp -r "$PREFIX/src/course/source" "$home/cnncourse/source"
        cp "$PREFIX/etc/course_nbgrader_config.py" "$home/cnncourse/nbgrader_config.py"
        chown -R "$name:" "$home/cnncourse"
    fi
    echo "$ROLE $name (home $home)"
done
