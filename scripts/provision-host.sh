#!/bin/bash
# Provisions a host to run cellgate sandboxes over SSH. Run it as root on the
# host, from a copy of the cellgate repository (with node_modules installed):
#
#   sudo scripts/provision-host.sh --authorized-key dispatcher_ed25519.pub [options]
#
# What it does (every step idempotent; running it again updates the host):
#   - creates the untrusted account (default cellgate-sandbox): a system user
#     with no password (key login only), a root-owned home it cannot write and
#     a root-owned authorized_keys it cannot change;
#   - installs the sandbox code (bin/ config/ protocol/ sandbox/ telemetry/ package files
#     and node_modules from --from, default this repository) under
#     PREFIX/app-<hash>, with PREFIX/app pointing at it: readable by the
#     account, writable only by root;
#   - installs PREFIX/bin/cellgate-sandbox, the only command the account runs
#     over SSH: it sets the resource limits itself with prlimit (address
#     space, processes, open files, no core files) because sshd applies
#     /etc/security/limits.d only when it uses PAM; the limits.d file is
#     written too, for logins through PAM;
#   - bounds each sandbox process by a memory cgroup of its own (cgroup v1, the
#     memory and pids hierarchies): makes cellgate/ssh-ACCOUNT, root-owned,
#     holding all the account's sandboxes (--total-memory-mb), with --sandboxes
#     slot cgroups in it, each bounded (--sandbox-memory-mb, --sandbox-pids,
#     no swap past it); the sandbox command moves itself into a free slot (its
#     lock held while it runs) before it starts node, and refuses to start
#     when there is none. The account may write only the slots' cgroup.procs:
#     it can move its own processes between slots, never change a limit, make
#     a cgroup or move another account's process. PREFIX/bin/cellgate-cgroups
#     makes them (again after a reboot: a systemd unit runs it at boot where
#     systemd runs). Without a v1 memory hierarchy (cgroup v2 lets an account
#     move a process only within a subtree it was delegated, and an SSH
#     session's is not) the sandboxes run without a memory bound, as it says;
#   - writes the dispatcher's public key(s) into authorized_keys as
#     `restrict,command="PREFIX/bin/cellgate-sandbox"`: no tty, no forwarding,
#     the sandbox whatever command the client asks for (but `kill -KILL PID`,
#     which the account may do anyway);
#   - makes sure the account cannot read the server's data directory or
#     config (--protect PATH, and by default FROM/data and
#     FROM/cellgate.config.json when they exist): removes access for others,
#     then checks as the account and fails if it still can read them.
#
# Options:
#   --user NAME            untrusted account (default cellgate-sandbox)
#   --prefix DIR           install directory (default /opt/cellgate)
#   --from DIR             cellgate tree to install (default: this script's repository)
#   --authorized-key FILE  dispatcher public key to accept (repeatable; the file is
#                          replaced by exactly these keys; without any, keys are left as they are)
#   --node PATH            node binary the sandbox runs with (default: `command -v node`)
#   --protect PATH         a path the account must not read (repeatable)
#   --as-mb N              address space per sandbox process, MiB (default 32768:
#                          V8 and isolated-vm reserve far more address space than
#                          they use, about 14 GiB for an idle sandbox and about
#                          1 GiB more per slot running a cell; the sandbox runs
#                          with --disable-wasm-trap-handler, as WebAssembly's
#                          guard regions would need 10 GiB each. Raise it for
#                          more than about 16 slots per sandbox)
#   --nproc N              processes and threads of the account (default 512)
#   --nofile N             open files per sandbox process (default 1024)
#   --sandboxes N          sandbox processes the host runs at once: cgroup slots (default 10,
#                          the most a host takes)
#   --sandbox-memory-mb N  memory bound of one sandbox process (default 3680: what the
#                          local launcher gives a 4-slot sandbox with the default limits;
#                          see README, The OS bound on sandbox processes)
#   --sandbox-pids N       processes and threads of one sandbox process (default 96)
#   --total-memory-mb N    memory of all the account's sandboxes together (default: the
#                          smaller of sandboxes x sandbox memory and 90% of the host's)
#
# The host's sshd must let the account log in with a key (no AllowUsers or
# AllowGroups that leave it out). The sandbox connects back to the
# dispatcher's sandbox endpoint over TCP (CURVE-encrypted): open that port
# from this host to the dispatcher.
set -euo pipefail

USER_NAME=cellgate-sandbox
PREFIX=/opt/cellgate
FROM="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_BIN="$(command -v node || true)"
AS_MB=32768
NPROC=512
NOFILE=1024
SANDBOXES=10
SANDBOX_MB=3680
SANDBOX_PIDS=96
TOTAL_MB=
KEYS=()
PROTECT=()

die() { echo "provision-host: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --user) USER_NAME="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --from) FROM="$(cd "$2" && pwd)"; shift 2 ;;
    --authorized-key) KEYS+=("$2"); shift 2 ;;
    --node) NODE_BIN="$2"; shift 2 ;;
    --protect) PROTECT+=("$2"); shift 2 ;;
    --as-mb) AS_MB="$2"; shift 2 ;;
    --nproc) NPROC="$2"; shift 2 ;;
    --nofile) NOFILE="$2"; shift 2 ;;
    --sandboxes) SANDBOXES="$2"; shift 2 ;;
    --sandbox-memory-mb) SANDBOX_MB="$2"; shift 2 ;;
    --sandbox-pids) SANDBOX_PIDS="$2"; shift 2 ;;
    --total-memory-mb) TOTAL_MB="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root"
[[ "$USER_NAME" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad account name $USER_NAME"
[ -n "$NODE_BIN" ] && [ -x "$NODE_BIN" ] || die "node not found (use --node PATH)"
NODE_BIN="$(readlink -f "$NODE_BIN")"
[ -f "$FROM/sandbox/main.ts" ] && [ -d "$FROM/node_modules" ] || die "$FROM is not a cellgate tree with node_modules (use --from DIR)"
for number in "$AS_MB" "$NPROC" "$NOFILE" "$SANDBOXES" "$SANDBOX_MB" "$SANDBOX_PIDS" ${TOTAL_MB:+"$TOTAL_MB"}; do [[ "$number" =~ ^[0-9]+$ ]] || die "limits are whole numbers"; done
for key in ${KEYS[@]+"${KEYS[@]}"}; do [ -r "$key" ] || die "cannot read key $key"; done

# Test suites provision in parallel: one at a time.
exec 9>/run/cellgate-provision.lock
flock 9

# --- the account ----------------------------------------------------------------------------------
HOME_DIR="/var/lib/$USER_NAME"
if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "$HOME_DIR" --no-create-home --shell /bin/bash "$USER_NAME"
fi
# '*': no password can match, yet the account is not "locked" ('!'), which sshd
# without PAM would refuse even for key logins. bash, because sshd runs every
# command through the login shell and bash execs a single command (dash would
# stay in between and hide how the sandbox ended).
usermod --password '*' --shell /bin/bash --home "$HOME_DIR" "$USER_NAME"
install -d -o root -g root -m 0755 "$HOME_DIR" "$HOME_DIR/.ssh"

# --- the code -------------------------------------------------------------------------------------
CODE=(bin config protocol sandbox telemetry package.json package-lock.json tsconfig.json)
present=()
for item in "${CODE[@]}"; do [ -e "$FROM/$item" ] && present+=("$item"); done
stamp="$(cd "$FROM" && find "${present[@]}" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
install -d -o root -g root -m 0755 "$PREFIX" "$PREFIX/bin"
target="app-$stamp"
previous="$(readlink "$PREFIX/app" 2>/dev/null || true)"
if [ ! -d "$PREFIX/$target" ]; then
  tmp="$(mktemp -d "$PREFIX/.app-XXXXXX")"
  for item in "${present[@]}"; do cp -a "$FROM/$item" "$tmp/"; done
  # node_modules is large: reuse the installed one (hard links) when the lock file is the same.
  if [ -n "$previous" ] && cmp -s "$PREFIX/$previous/package-lock.json" "$FROM/package-lock.json" && [ -d "$PREFIX/$previous/node_modules" ]; then
    cp -al "$PREFIX/$previous/node_modules" "$tmp/node_modules"
  else
    cp -a "$FROM/node_modules" "$tmp/node_modules"
  fi
  chown -R root:root "$tmp"
  chmod -R u+rwX,go-w,go+rX "$tmp"
  mv -T "$tmp" "$PREFIX/$target"
fi
ln -sfn "$target" "$PREFIX/.app-link"
mv -T "$PREFIX/.app-link" "$PREFIX/app"
# Keep the current tree and the one before (sandboxes still running from it), drop older ones.
for old in "$PREFIX"/app-*; do
  name="$(basename "$old")"
  [ "$name" = "$target" ] || [ "$name" = "$previous" ] || rm -rf "$old"
done

# --- the cgroups ----------------------------------------------------------------------------------
# Where the v1 hierarchy of a controller is mounted (empty when it is not).
v1_mount() {
  awk -v c="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup" && ("," $(i + 3) ",") ~ ("," c ",")) print $5; break } }' /proc/self/mountinfo | head -n 1
}
MEMORY_MOUNT="$(v1_mount memory)"
PIDS_MOUNT="$(v1_mount pids)"
LOCKS="$PREFIX/cgroup-locks"
JOIN_CGROUP=""
if [ -n "$MEMORY_MOUNT" ]; then
  if [ -z "$TOTAL_MB" ]; then
    host_mb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
    TOTAL_MB=$((SANDBOXES * SANDBOX_MB))
    [ "$TOTAL_MB" -le $((host_mb * 9 / 10)) ] || TOTAL_MB=$((host_mb * 9 / 10))
  fi
  MEMORY_DIR="$MEMORY_MOUNT/cellgate/ssh-$USER_NAME"
  PIDS_DIR="${PIDS_MOUNT:+$PIDS_MOUNT/cellgate/ssh-$USER_NAME}"
  install -d -o root -g root -m 0755 "$LOCKS"
  for ((slot = 0; slot < SANDBOXES; slot++)); do
    [ -e "$LOCKS/slot-$slot" ] || install -o root -g root -m 0644 /dev/null "$LOCKS/slot-$slot"
  done
  pids_total=""
  pids_slot=""
  if [ -n "$PIDS_DIR" ]; then
    pids_total="mkdir -p \"$PIDS_DIR\"; echo $((SANDBOXES * SANDBOX_PIDS)) >\"$PIDS_DIR/pids.max\""
    pids_slot="mkdir -p \"$PIDS_DIR/slot-\$slot\"; echo $SANDBOX_PIDS >\"$PIDS_DIR/slot-\$slot/pids.max\"; chown $USER_NAME \"$PIDS_DIR/slot-\$slot/cgroup.procs\""
  fi
  cat >"$PREFIX/bin/.cellgate-cgroups.new" <<EOF
#!/bin/sh
# Installed by cellgate's provision-host.sh: makes the cgroups the sandboxes
# of $USER_NAME join (cgroup v1; gone after a reboot, so run again at boot).
# All root-owned but each slot's cgroup.procs, which the account may write to
# move its own processes in; no limit is the account's to change.
set -e
# memory + swap may never be below memory: whichever way a limit moves, this order keeps it so.
bound() {
  echo "\$2" >"\$1/memory.memsw.limit_in_bytes" 2>/dev/null || true
  echo "\$2" >"\$1/memory.limit_in_bytes"
  if [ -e "\$1/memory.memsw.limit_in_bytes" ]; then echo "\$2" >"\$1/memory.memsw.limit_in_bytes"; fi
}
mkdir -p "$MEMORY_DIR"
bound "$MEMORY_DIR" $((TOTAL_MB * 1024 * 1024))
$pids_total
slot=0
while [ \$slot -lt $SANDBOXES ]; do
  mkdir -p "$MEMORY_DIR/slot-\$slot"
  bound "$MEMORY_DIR/slot-\$slot" $((SANDBOX_MB * 1024 * 1024))
  chown $USER_NAME "$MEMORY_DIR/slot-\$slot/cgroup.procs"
  $pids_slot
  slot=\$((slot + 1))
done
# Slots of an earlier, larger provisioning: removed once empty.
for dir in "$MEMORY_DIR"/slot-* ${PIDS_DIR:+"$PIDS_DIR"/slot-*}; do
  if [ -d "\$dir" ] && [ "\${dir##*/slot-}" -ge $SANDBOXES ]; then rmdir "\$dir" 2>/dev/null || true; fi
done
EOF
  chmod 0755 "$PREFIX/bin/.cellgate-cgroups.new"
  mv -T "$PREFIX/bin/.cellgate-cgroups.new" "$PREFIX/bin/cellgate-cgroups"
  "$PREFIX/bin/cellgate-cgroups"
  if [ -d /run/systemd/system ]; then
    cat >"/etc/systemd/system/cellgate-cgroups-$USER_NAME.service" <<EOF
[Unit]
Description=cgroups for the cellgate sandboxes of $USER_NAME (provision-host.sh)
[Service]
Type=oneshot
ExecStart=$PREFIX/bin/cellgate-cgroups
[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable "cellgate-cgroups-$USER_NAME.service" >/dev/null
  fi
  # The sandbox command's first step: a free slot (its lock on fd 8, held through exec for the
  # process's life), joined before node starts; none free, or the cgroups gone, and it does not start.
  pids_join=""
  [ -z "$PIDS_DIR" ] || pids_join=" && echo \$\$ >\"$PIDS_DIR/slot-\$slot/cgroup.procs\""
  JOIN_CGROUP="joined=
for slot in \$(seq 0 $((SANDBOXES - 1))); do
  exec 8<\"$LOCKS/slot-\$slot\"
  if flock -n 8; then
    echo \$\$ >\"$MEMORY_DIR/slot-\$slot/cgroup.procs\"$pids_join && joined=\$slot
    break
  fi
  exec 8<&-
done
if [ -z \"\$joined\" ]; then
  echo \"cellgate-sandbox: no cgroup slot to join (all $SANDBOXES in use, or gone: run $PREFIX/bin/cellgate-cgroups as root)\" >&2
  exit 3
fi"
else
  echo "provision-host: no cgroup v1 memory hierarchy: the sandboxes of $USER_NAME run without an OS memory bound (see README)" >&2
fi

# --- the sandbox command and its limits -----------------------------------------------------------
AS_BYTES=$((AS_MB * 1024 * 1024))
cat >"$PREFIX/bin/.cellgate-sandbox.new" <<EOF
#!/bin/sh
# Installed by cellgate's provision-host.sh: the forced command of the
# dispatcher's key for $USER_NAME. The first line tells the dispatcher the
# process id (exec keeps it); the boot line, with every secret, comes on stdin.
# The sandbox exits when stdin closes, that is when its SSH session ends.
# One other request is served: "kill -KILL PID", how the dispatcher kills a
# sandbox that no longer listens (sshd sends no signals to forced commands).
case "\${SSH_ORIGINAL_COMMAND:-}" in
  "kill -KILL "*)
    pid="\${SSH_ORIGINAL_COMMAND#kill -KILL }"
    case "\$pid" in ''|*[!0-9]*) echo "cellgate-sandbox: bad pid" >&2; exit 2 ;; esac
    exec kill -KILL "\$pid" ;;
esac
$JOIN_CGROUP
echo "cellgate-sandbox pid \$\$"
cd "$PREFIX/app" || exit 1
exec /usr/bin/env -i PATH=/usr/bin:/bin HOME="$HOME_DIR" LANG=C.UTF-8 \\
  prlimit --as=$AS_BYTES --nproc=$NPROC --nofile=$NOFILE --core=0 -- \\
  "$NODE_BIN" --no-node-snapshot --disable-wasm-trap-handler --import tsx sandbox/main.ts
EOF
chmod 0755 "$PREFIX/bin/.cellgate-sandbox.new"
mv -T "$PREFIX/bin/.cellgate-sandbox.new" "$PREFIX/bin/cellgate-sandbox"

cat >"/etc/security/limits.d/$USER_NAME.conf" <<EOF
# cellgate sandboxes (provision-host.sh); the sandbox command sets the same limits itself.
$USER_NAME - as $((AS_MB * 1024))
$USER_NAME - nproc $NPROC
$USER_NAME - nofile $NOFILE
$USER_NAME - core 0
EOF

# --- the dispatcher's key(s) ----------------------------------------------------------------------
if [ ${#KEYS[@]} -gt 0 ]; then
  keys_tmp="$(mktemp "$HOME_DIR/.ssh/.authorized_keys-XXXXXX")"
  for key in "${KEYS[@]}"; do
    while read -r line; do
      [ -z "$line" ] || [[ "$line" == \#* ]] && continue
      echo "restrict,command=\"$PREFIX/bin/cellgate-sandbox\" $line"
    done <"$key"
  done >"$keys_tmp"
  chown root:root "$keys_tmp"
  chmod 0644 "$keys_tmp"
  mv -T "$keys_tmp" "$HOME_DIR/.ssh/authorized_keys"
fi

# --- what the account must not read ---------------------------------------------------------------
[ -e "$FROM/data" ] && PROTECT+=("$FROM/data")
[ -e "$FROM/cellgate.config.json" ] && PROTECT+=("$FROM/cellgate.config.json")
for path in ${PROTECT[@]+"${PROTECT[@]}"}; do
  [ -e "$path" ] || continue
  chmod o-rwx "$path"
  if [ "$(stat -c %G "$path")" = "$USER_NAME" ]; then chmod g-rwx "$path"; fi
  if [ -d "$path" ]; then probe=(ls "$path"); else probe=(head -c1 "$path"); fi
  if runuser -u "$USER_NAME" -- "${probe[@]}" >/dev/null 2>&1; then
    die "$USER_NAME can still read $path (check the modes of its parent directories and ACLs)"
  fi
done

runuser -u "$USER_NAME" -- "$NODE_BIN" --version >/dev/null || die "$USER_NAME cannot run $NODE_BIN"
echo "provision-host: $USER_NAME ready; sandbox command $PREFIX/bin/cellgate-sandbox, code in $PREFIX/$target"
