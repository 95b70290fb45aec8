#!/bin/sh
# Regenerates Sources/Module/section-order.txt: the functions pam_passkey.so runs in the
# usual logins, which the linker places together at the start of the module's code (gold's
# --section-ordering-file; Package.swift). A PAM application then maps fewer of the module's
# pages: `passkey-bench pam` shows the footprint with and without it. The file only orders
# code: a stale or missing entry costs memory, never correctness.
#
# How: a throwaway account and a throwaway PAM service with the shipped stack, driven through
# pamtester under valgrind's callgrind — step aside and the offer (password, "y", a PIN twice),
# a passkey login, a wrong PIN then the password, a remote session — and every function of
# the module that ran, in the order callgrind lists them.
#   usage (root, after `make build`): scripts/update-section-order.sh
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=$root/.build/release
module=$build/pam_passkey.so
helper=$build/pam_passkey_helper
for tool in valgrind callgrind_annotate pamtester useradd chpasswd python3; do
    command -v "$tool" >/dev/null || { echo "update-section-order: $tool is missing" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "update-section-order: run as root (it adds an account and a PAM service)" >&2; exit 1; }
[ -f "$module" ] && [ -x "$helper" ] || { echo "update-section-order: run make build first" >&2; exit 1; }

work=$(mktemp -d /var/tmp/pam_passkey-order.XXXXXX)
user=pkorder$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
password="Order-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
service=pam_passkey-order-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
    rm -f "/etc/pam.d/$service"
    userdel "$user" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

chmod 755 "$work"
mkdir -m 755 "$work/registry"
mkdir -m 700 "$work/state"
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$work/machine-id"
cat > "$work/pam_passkey.conf" <<EOF
rp_id = order.example
host_name = order-host
host_id_file = $work/machine-id
registry_dir = $work/registry
state_dir = $work/state
helper = $helper
EOF
cat > "/etc/pam.d/$service" <<EOF
auth [success=done default=ignore] $module conf=$work/pam_passkey.conf
auth requisite pam_unix.so nodelay
auth optional $module conf=$work/pam_passkey.conf append
EOF
useradd --no-create-home --shell /usr/sbin/nologin --comment "pam_passkey section order (throwaway)" "$user"
echo "$user:$password" | chpasswd

run=0
login() {  # login ANSWER... : one pamtester transaction under callgrind
    run=$((run + 1))
    printf '%s\n' "$@" | valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.$run" \
        pamtester ${RHOST:+-I rhost=$RHOST} "$service" "$user" authenticate setcred >/dev/null 2>&1 || true
}
login "$password" y 482913 482913      # no passkey: step aside, password, offer, PIN chosen
login 482913                            # passkey login
login 000000 "" "$password" n           # wrong PIN, give up, password, decline
RHOST=203.0.113.5 login "$password"     # remote: step aside at once

python3 - "$work" "$root/Sources/Module/section-order.txt" <<'EOF'
import glob, re, sys
work, out = sys.argv[1], sys.argv[2]
seen, order = set(), []
for path in sorted(glob.glob(work + "/callgrind.*"), key=lambda p: int(p.rsplit(".", 1)[1])):
    objects, functions, current = {}, {}, None
    for line in open(path, errors="replace"):
        m = re.match(r"^(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not m:
            continue
        callee, kind, number, name = m.groups()
        table = objects if kind == "ob" else functions
        if name:
            table[number] = name
        if callee:
            continue
        if kind == "ob":
            current = objects.get(number)
        elif current and current.endswith("libpam_passkey.so"):
            function = functions.get(number)
            if function and not function.startswith("0x") and function not in seen:
                seen.add(function)
                order.append(function)
if len(order) < 200:
    sys.exit(f"update-section-order: only {len(order)} functions seen; did the logins run?")
with open(out, "w") as f:
    f.write("".join(".text." + name + "\n" for name in order))
print(f"update-section-order: {len(order)} functions -> {out}")
EOF
