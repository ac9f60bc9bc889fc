#!/usr/bin/env bash
# One class on one Debian/Ubuntu server: JupyterHub with Unix accounts, nbgrader's exchange,
# one instructor with the formgrader and the course, students with the Assignments panel.
#
#   sudo deploy/one-server/setup.sh --instructor NAME --students a,b,c
#
# Run it again to add students (existing accounts and passwords are kept). See
# deploy/README.md for what it does and for the options.
set -euo pipefail
# Modes below are explicit; what the administrator's shell would make by default must not
# change them (a umask of 077 would make the homes' parent unreachable for the accounts).
umask 022

usage() {
    cat <<'EOF'
usage: sudo setup.sh --instructor NAME --students a,b,c [options]

  --instructor NAME     the instructor's account (created if missing)
  --students LIST       comma-separated student accounts (created if missing)
  --course SOURCE       git URL or local clone of the course (default: this repository)
  --course-dir DIR      the instructor's course folder (default: ~NAME/nncourse)
  --exchange DIR        nbgrader's exchange (default: /srv/nbgrader/exchange)
  --prefix DIR          hub folder: config, state, passwords (default: /opt/nncourse-hub)
  --python-env DIR      use this Python environment (with nncourse[hub] installed)
                        instead of installing packages and creating PREFIX-env
  --home-base DIR       parent folder of new accounts' homes (default: /home)
  --ip ADDR             where the hub listens (default: all addresses)
  --port N              (default: 8000)
  --internal-ports H,P  the hub's API and the proxy's API on 127.0.0.1 (default: 8081,8001)
  --data DIR            folder containing mnist/, for NNLIB_DATA (default: download)
  --no-service          do not install the systemd service; print how to start the hub
EOF
}

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/deploy/one-server"
INSTRUCTOR="" STUDENTS="" COURSE="$REPO" COURSE_DIR="" EXCHANGE=/srv/nbgrader/exchange
PREFIX=/opt/nncourse-hub PYTHON_ENV="" HOME_BASE=/home IP="" PORT=8000
INTERNAL_PORTS=8081,8001 DATA="" SERVICE=1
while [ $# -gt 0 ]; do
    case "$1" in
        --instructor) INSTRUCTOR="$2"; shift 2 ;;
        --students) STUDENTS="$2"; shift 2 ;;
        --course) COURSE="$2"; shift 2 ;;
        --course-dir) COURSE_DIR="$2"; shift 2 ;;
        --exchange) EXCHANGE="$2"; shift 2 ;;
        --prefix) PREFIX="$2"; shift 2 ;;
        --python-env) PYTHON_ENV="$2"; shift 2 ;;
        --home-base) HOME_BASE="$2"; shift 2 ;;
        --ip) IP="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --internal-ports) INTERNAL_PORTS="$2"; shift 2 ;;
        --data) DATA="$2"; shift 2 ;;
        --no-service) SERVICE=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [ -z "$INSTRUCTOR" ] || [ -z "$STUDENTS" ]; then usage >&2; exit 2; fi
if [ "$(id -u)" -ne 0 ]; then echo "setup.sh: run as root (sudo)" >&2; exit 1; fi
IFS=, read -r -a STUDENT_LIST <<< "$STUDENTS"
step() { echo "== $*"; }

# --- 1. Software: Python environment with the course and JupyterHub; the proxy (npm) ----
if [ -z "$PYTHON_ENV" ]; then
    step "packages"
    # node and npm only where missing: NodeSource's nodejs bundles npm and conflicts with
    # Debian's npm package.
    packages=(python3-venv python3-pip git)
    command -v node >/dev/null || packages+=(nodejs)
    command -v npm >/dev/null || packages+=(npm)
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
    # Beside PREFIX, not in it: every account runs this environment, and PREFIX (passwords,
    # the hub's state) is root's alone.
    PYTHON_ENV="$PREFIX-env"
    # Debian's Python: every account can run it (a Python in root's home could not).
    [ -x "$PYTHON_ENV/bin/python" ] || /usr/bin/python3 -m venv "$PYTHON_ENV"
    # A normal (not editable) install: the environment must be readable by every account,
    # and the instructor's course folder is not.
    "$PYTHON_ENV/bin/pip" install -q "${REPO}[hub]"
fi
if ! command -v configurable-http-proxy >/dev/null; then
    step "configurable-http-proxy (npm)"
    npm install -g configurable-http-proxy
fi
PROXY="$(command -v configurable-http-proxy)"
for tool in jupyterhub jupyterhub-singleuser nbgrader nncourse; do
    [ -x "$PYTHON_ENV/bin/$tool" ] || { echo "setup.sh: no $tool in $PYTHON_ENV" >&2; exit 1; }
done

# --- 2. Accounts: homes are owner-only, so students cannot read each other's work -------
mkdir -p "$PREFIX"
chmod 0700 "$PREFIX"
PASSWORDS="$PREFIX/passwords"
(umask 077 && touch "$PASSWORDS")
for user in "$INSTRUCTOR" "${STUDENT_LIST[@]}"; do
    if ! id "$user" >/dev/null 2>&1; then
        step "account $user"
        useradd --create-home --base-dir "$HOME_BASE" --shell /bin/bash -K HOME_MODE=0700 "$user"
        password="$("$PYTHON_ENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(12))')"
        echo "$user:$password" | chpasswd
        echo "$user:$password" >> "$PASSWORDS"
    fi
    chmod 0700 "$(getent passwd "$user" | cut -d: -f6)"
done
home_of() { getent passwd "$1" | cut -d: -f6; }
COURSE_DIR="${COURSE_DIR:-$(home_of "$INSTRUCTOR")/nncourse}"

# --- 3. The exchange, as nbgrader documents it ------------------------------------------
# Everyone may create entries in the root (nbgrader requires it writable by all); the sticky
# bit keeps anyone from renaming or removing another's entry. The course's folder is the
# instructor's before any student could claim the course id; release_assignment creates
# outbound/ (0755), inbound/ (2733: students drop submissions, cannot list them) and
# release_feedback feedback/ (0711) inside it.
step "exchange $EXCHANGE"
mkdir -p "$EXCHANGE/nncourse"
chmod 1777 "$EXCHANGE"
chown "$INSTRUCTOR:" "$EXCHANGE/nncourse"
chmod 0755 "$EXCHANGE/nncourse"

# Every account's nbgrader finds the exchange and the course id in its own config.
for user in "$INSTRUCTOR" "${STUDENT_LIST[@]}"; do
    runuser -u "$user" -- bash -c 'umask 077 && mkdir -p ~/.jupyter && cat > ~/.jupyter/nbgrader_config.py' <<EOF
# Written by nncourse's deploy/one-server/setup.sh: this class's nbgrader exchange.
c = get_config()  # noqa: F821
c.Exchange.root = "$EXCHANGE"
c.CourseDirectory.course_id = "nncourse"
EOF
done

# --- 4. The course: the instructor's, private from the first file -----------------------
if [ ! -e "$COURSE_DIR" ]; then
    step "course $COURSE -> $COURSE_DIR"
    # safe.directory: the source may be a clone owned by the administrator's own account.
    (umask 077 && git -c safe.directory="*" clone -q "$COURSE" "$COURSE_DIR")
    chown -R "$INSTRUCTOR:" "$COURSE_DIR"
fi
chmod 0700 "$COURSE_DIR"
# Registered in the gradebook (created here, owner-only: nbgrader_config.py sets the umask).
for student in "${STUDENT_LIST[@]}"; do
    runuser -u "$INSTRUCTOR" -- env -C "$COURSE_DIR" PATH="$PYTHON_ENV/bin:$PATH" \
        nbgrader db student add "$student" --log-level=WARN
done

# --- 5. Students' JupyterLab: Assignments panel, no instructor panels (per account) ------
for student in "${STUDENT_LIST[@]}"; do
    step "JupyterLab for $student"
    runuser -u "$student" -- env -C "$(home_of "$student")" HOME="$(home_of "$student")" \
        "$PYTHON_ENV/bin/nncourse" student-setup --level user
done

# --- 6. JupyterHub ----------------------------------------------------------------------
step "JupyterHub in $PREFIX"
cp "$HERE/jupyterhub_config.py" "$PREFIX/jupyterhub_config.py"
"$PYTHON_ENV/bin/python" - "$PREFIX/class.json" <<EOF
import json, sys
hub, api = "$INTERNAL_PORTS".split(",")
json.dump({
    "instructor": "$INSTRUCTOR",
    "students": "$STUDENTS".split(","),
    "course_dir": "$COURSE_DIR",
    "exchange": "$EXCHANGE",
    "python_env": "$PYTHON_ENV",
    "proxy": "$PROXY",
    "ip": "$IP",
    "port": int("$PORT"),
    "internal_ports": [int(hub), int(api)],
    "data": "$DATA",
}, open(sys.argv[1], "w"), indent=2)
EOF
START="cd $PREFIX && $PYTHON_ENV/bin/jupyterhub -f $PREFIX/jupyterhub_config.py"
if [ "$SERVICE" = 1 ]; then
    cat > /etc/systemd/system/nncourse-hub.service <<EOF
[Unit]
Description=JupyterHub for the nncourse class
After=network.target

[Service]
WorkingDirectory=$PREFIX
ExecStart=$PYTHON_ENV/bin/jupyterhub -f $PREFIX/jupyterhub_config.py
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable --now nncourse-hub.service
    echo "JupyterHub: http://${IP:-<this server>}:$PORT (systemctl status nncourse-hub)"
else
    echo "start the hub with: $START"
fi
echo "passwords of the accounts created: $PASSWORDS (root only)"
