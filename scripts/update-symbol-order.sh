#!/bin/sh
# Regenerates Sources/Module/symbol-order.txt and Sources/Helper/symbol-order.txt: what
# pam_passkey.so touches in the usual logins, and what the helper touches answering them,
# which the linker places together (lld's --symbol-ordering-file; Package.swift):
#   - first, the .bss variables a step-aside writes (once tokens, metadata caches, the
#     runtime's statics), small ones first: each page of .bss a process touches costs it
#     two page faults (read, which maps the zero page, then written) and 4 kB of private
#     memory, and scattered over the module's 60 pages a step-aside touched 19;
#   - then the functions the usual logins run, at the start of the module's code.
# A PAM application then maps fewer of the module's pages: `passkey-bench pam` shows the
# footprint and the fresh-process time. A helper, started afresh for every request, takes
# fewer page faults before its first reply (`passkey-bench helper`). The files only order: a
# stale or missing entry costs memory and time, never correctness.
#
# How: a throwaway account and a throwaway PAM service with the shipped stack, driven through
# pamtester under valgrind's callgrind — step aside and the offer (password, "y", a PIN twice),
# a passkey login, a wrong PIN then the password, a remote session — and every function of
# the module that ran. They are listed by how common their login is, not by when it ran:
# first the step-aside alone (every login, su and sudo of someone without a passkey here;
# a second service has the module's first line and pam_permit), then the remote step-aside,
# the passkey login, the offer, the wrong PIN; within one login by name (callgrind's listing
# order changes from run to run, the set of functions does not). What a step-aside runs then
# sits in the first pages, and what a passkey login adds right after it. The .bss variables
# come from one more step-aside under valgrind's lackey, which logs every load and store,
# with the dynamic loader saying (LD_DEBUG=files) where it put the module. The helper's list
# comes the same way: the logins are traced with their children, so the helpers they start
# (probe and assertion, probe and creation) are traced too, after one status request (what
# `passkeyctl status` and the bench ask) traced first with callgrind and with lackey;
# valgrind loads a position-independent program at 0x108000, which the script checks against
# the program's entry point.
#   usage (root, after `make build`): scripts/update-symbol-order.sh
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=$root/.build/release
module=$build/pam_passkey.so
helper=$build/pam_passkey_helper
for tool in valgrind callgrind_annotate pamtester useradd chpasswd python3 readelf nm swiftc; do
    command -v "$tool" >/dev/null || { echo "update-symbol-order: $tool is missing" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "update-symbol-order: run as root (it adds an account and a PAM service)" >&2; exit 1; }
[ -f "$module" ] && [ -x "$helper" ] || { echo "update-symbol-order: run make build first" >&2; exit 1; }

work=$(mktemp -d /var/tmp/pam_passkey-order.XXXXXX)
user=pkorder$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
password="Order-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
service=pam_passkey-order-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
    rm -f "/etc/pam.d/$service" "/etc/pam.d/$service-aside"
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
cat > "/etc/pam.d/$service-aside" <<EOF
auth [success=done default=ignore] $module conf=$work/pam_passkey.conf
auth required pam_permit.so
EOF
useradd --no-create-home --shell /usr/sbin/nologin --comment "pam_passkey symbol order (throwaway)" "$user"
echo "$user:$password" | chpasswd

login() {  # login RANK SERVICE ANSWER... : one pamtester transaction under callgrind, listed RANKth
    rank=$1 name=$2
    shift 2
    printf '%s\n' "$@" | valgrind -q --tool=callgrind --demangle=no --trace-children=yes --callgrind-out-file="$work/callgrind.$rank.%p" \
        pamtester ${RHOST:+-I rhost=$RHOST} "$name" "$user" authenticate setcred >/dev/null 2>&1 || true
}
login 1 "$service-aside"                          # no passkey: the module steps aside
RHOST=203.0.113.5 login 2 "$service" "$password"  # remote: step aside at once
login 4 "$service" "$password" y 482913 482913    # step aside, password, offer, PIN chosen
login 3 "$service" 482913                         # passkey login
login 5 "$service" 000000 "" "$password" n        # wrong PIN, give up, password, decline
# The step-aside alone once more, every memory access logged (a few hundred MB, deleted with
# the rest of $work).
printf '\n' | LD_DEBUG=files LD_DEBUG_OUTPUT="$work/loader" valgrind -q --tool=lackey --trace-mem=yes \
    --log-file="$work/lackey" pamtester "$service-aside" "$user" authenticate >/dev/null 2>&1 || true

# The helper answering one status request (the frame: a CBOR map {"v": version, "op":
# "status"} after its 4-byte length), under callgrind and under lackey; listed first.
version=$(sed -n 's/.*public static let current = \([0-9][0-9]*\).*/\1/p' Sources/HelperProtocol/Messages.swift)
[ -n "$version" ] && [ "$version" -lt 24 ] || { echo "update-symbol-order: protocol version '$version' not understood" >&2; exit 1; }
printf "\000\000\000\016\242av\\$(printf '%03o' "$version")bopfstatus" > "$work/status-request"
valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.0.status" \
    "$helper" --conf "$work/pam_passkey.conf" < "$work/status-request" > "$work/status-reply" 2>/dev/null || true
grep -q ereplyfstatus "$work/status-reply" || { echo "update-symbol-order: the helper did not answer the status request" >&2; exit 1; }
valgrind -q --tool=lackey --trace-mem=yes --log-file="$work/helper-lackey" \
    "$helper" --conf "$work/pam_passkey.conf" < "$work/status-request" > /dev/null 2>&1 || true

# The archives the module's code comes from besides the project's objects: a function that
# shares a large section with others (Swift.o's plain .text holds 1.6 MB of the standard
# library) is left out, since naming it would move the whole section to the front.
swift_static=$(dirname "$(command -v swiftc)")/../lib/swift_static/linux
archives="$swift_static/libswiftCore.a $swift_static/libswiftGlibc.a $(${CC:-cc} -print-file-name=libstdc++.a)"

python3 - "$work" "$root" "$module" "$helper" $archives <<'EOF'
import bisect, glob, re, subprocess, sys
work, root, module, helper, archives = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
VALGRIND_PIE_BASE = 0x108000  # where valgrind (amd64) loads a position-independent program

def module_base():
    """Where the dynamic loader put the module in the traced step-aside (LD_DEBUG=files)."""
    for path in glob.glob(work + "/loader.*"):
        # Each line starts with the process id: "  7233:\tfile=... [0];  generating link map".
        m = re.search(r"file=\S*pam_passkey\.so \[0\];\s+generating link map\n\s*\d+:\s+dynamic: 0x[0-9a-f]+\s+base: (0x[0-9a-f]+)",
                      open(path, errors="replace").read())
        if m:
            return int(m.group(1), 16)
    sys.exit("update-symbol-order: the loader did not say where it put the module (LD_DEBUG=files)")

def helper_base(trace):
    """valgrind's base for a PIE program, checked: the trace runs the program's entry point."""
    header = subprocess.run(["readelf", "-h", helper], check=True, capture_output=True, text=True).stdout
    entry = VALGRIND_PIE_BASE + int(re.search(r"Entry point address:\s+0x([0-9a-f]+)", header).group(1), 16)
    wanted = "I  %08x," % entry
    with open(trace, errors="replace") as lines:
        if not any(line.startswith(wanted) for line in lines):
            sys.exit(f"update-symbol-order: the helper's entry point is not at {entry:#x} in {trace}; valgrind loads PIE programs elsewhere now")
    return VALGRIND_PIE_BASE

def touched_bss(binary, base, trace, large_sections):
    """The binary's .bss symbols the trace touched, in the order it first touched them; last
    those in a large input section (the linker moves a whole section: the standard library's
    would spread the rest apart) and those larger than a page (the runtime's 64 kB metadata
    pool: only its start is used), so that the small ones share as few pages as they can."""
    sections = subprocess.run(["readelf", "-SW", binary], check=True, capture_output=True, text=True).stdout
    m = re.search(r"\]\s+\.bss\s+NOBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
    low, high = int(m.group(1), 16), int(m.group(1), 16) + int(m.group(2), 16)
    symbols = []
    for line in subprocess.run(["nm", "-n", "-S", "--defined-only", binary], check=True, capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "bB":
            symbols.append((int(f[0], 16), int(f[1], 16), f[3]))
    starts = [a for a, _, _ in symbols]
    seen, order = set(), []
    with open(trace, errors="replace") as lines:
        for line in lines:
            if len(line) < 4 or line[1] not in "LSM" or line[0] != " ":
                continue
            address = int(line[3:line.index(",")], 16) - base
            if not low <= address < high:
                continue
            i = bisect.bisect_right(starts, address) - 1
            if i >= 0 and address < symbols[i][0] + max(symbols[i][1], 1) and symbols[i][2] not in seen:
                seen.add(symbols[i][2])
                order.append(symbols[i])
    if len(order) < 20:
        sys.exit(f"update-symbol-order: only {len(order)} .bss symbols of {binary} seen in {trace}; did the traced run work?")
    small = [n for _, size, n in order if size <= 4096 and n not in large_sections]
    shared = [n for _, size, n in order if size <= 4096 and n in large_sections]
    return small + shared + [n for _, size, n in order if size > 4096]

def in_large_sections(archive, kind, limit):
    """Symbols of one kind (FUNC, OBJECT) of the archive's members whose section is larger
    than limit: the standard library's Swift.o has all its code in one 1.6 MB section and all
    its variables in one 86 kB .bss."""
    listing = subprocess.run(["readelf", "-SsW", archive], check=True, capture_output=True, text=True).stdout
    names, sizes = set(), {}
    for line in listing.splitlines():
        if line.startswith("File: "):
            sizes = {}
            continue
        header = re.match(r"^\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if header:
            sizes[header.group(1)] = int(header.group(2), 16)
            continue
        field = line.split()
        if len(field) >= 8 and field[0].endswith(":") and field[3] == kind and sizes.get(field[6], 0) > limit:
            names.add(field[7])
    return names

def functions_run(object_suffix, large):
    """Every function of the object that ran, login by login (the traces callgrind.RANK.*, by
    rank); within one login by name. Which functions a login runs is the same from run to
    run, the order callgrind lists them in is not, and within a login it does not change
    which pages the login touches."""
    seen, order = set(), []
    ranks = {}
    for path in glob.glob(work + "/callgrind.*"):
        ranks.setdefault(int(path.split("/callgrind.")[1].split(".")[0]), []).append(path)
    for rank in sorted(ranks):
        ran = set()
        for path in ranks[rank]:
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
                elif current and current.endswith(object_suffix):
                    function = functions.get(number)
                    # callgrind tells apart two functions of one name (local symbols of two
                    # objects, or one function entered recursively) with a suffix 'N: the
                    # symbol is the name.
                    if function:
                        function = re.sub(r"'[0-9]+$", "", function)
                    if function and not function.startswith("0x") and function not in large:
                        ran.add(function)
        order += sorted(ran - seen)
        seen |= ran
    if len(order) < 200:
        sys.exit(f"update-symbol-order: only {len(order)} functions of {object_suffix} seen; did the logins run?")
    return order

# The passkey login, the offer and the wrong PIN each start a helper: traced with them, or the
# helper's list would hold the status request alone.
started = [p for p in glob.glob(work + "/callgrind.[1-9]*")
           if any(line.startswith("cmd:") and "pam_passkey_helper" in line for line in open(p, errors="replace"))]
if len(started) < 3:
    sys.exit(f"update-symbol-order: {len(started)} helpers traced in the logins, 3 or more expected; did the logins reach the helper?")
large, large_bss = set(), set()
for archive in archives:
    large |= in_large_sections(archive, "FUNC", 64 * 1024)
    large_bss |= in_large_sections(archive, "OBJECT", 4096)
for binary, suffix, base, trace, out in [
        (module, "/libpam_passkey.so", lambda _: module_base(), "/lackey", "/Sources/Module/symbol-order.txt"),
        (helper, "/pam_passkey_helper", helper_base, "/helper-lackey", "/Sources/Helper/symbol-order.txt")]:
    trace = work + trace
    variables = touched_bss(binary, base(trace), trace, large_bss)
    order = functions_run(suffix, large)
    with open(root + out, "w") as f:
        f.write("".join(name + "\n" for name in variables + order))
    print(f"update-symbol-order: {len(variables)} .bss symbols and {len(order)} functions -> {out.lstrip('/')}")
EOF
