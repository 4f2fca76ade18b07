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
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root"
[[ "$USER_NAME" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad account name $USER_NAME"
[ -n "$NODE_BIN" ] && [ -x "$NODE_BIN" ] || die "node not found (use --node PATH)"
NODE_BIN="$(readlink -f "$NODE_BIN")"
[ -f "$FROM/sandbox/main.ts" ] && [ -d "$FROM/node_modules" ] || die "$FROM is not a cellgate tree with node_modules (use --from DIR)"
for number in "$AS_MB" "$NPROC" "$NOFILE"; do [[ "$number" =~ ^[0-9]+$ ]] || die "limits are whole numbers"; done
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
