# Shared by scripts/*: locations and helpers. Sourced, not run.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# The user that runs Patroni/PostgreSQL: PostgreSQL refuses to run as root.
run_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Can the run user read/traverse this path?
readable_by_run_user() {
  local p=$1
  if [ "$(id -u)" -ne 0 ]; then return 0; fi
  runuser -u postgres -- test -r "$p" -a -x "$p" 2>/dev/null
}

patrol_venv() {
  if [ -n "${PATROL_VENV:-}" ]; then echo "$PATROL_VENV"; return; fi
  if readable_by_run_user "$repo"; then echo "$repo/.venv"; return; fi
  local h; h=$(printf '%s' "$repo" | sha1sum | cut -c1-10)
  echo "/var/tmp/patrol-venv-$h"
}
