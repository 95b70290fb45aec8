#!/bin/sh
# Installs what building and testing pam_passkey needs, from Debian's packages, when it is
# missing; and a throwaway Python venv (.venv-test) for the independent WebAuthn verifier.
# Safe to run again: does nothing when everything is present.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="libpam0g-dev libssl-dev pkg-config pamtester libpam-wrapper libpamtest0-dev \
openssh-server openssh-client python3-paramiko python3-pexpect python3-venv python3-pip \
swtpm swtpm-tools tpm2-tools libtss2-dev libfido2-dev fido2-tools tmux man-db groff-base dpkg-dev \
libclang-rt-14-dev procps mount gcc libc6-dev strace \
sudo vlock login util-linux passwd libpam-runtime slapd ldap-utils libldap-dev libpam-u2f \
python3-cryptography libstdc++-12-dev lintian gdb binutils systemd \
libsasl2-dev libsasl2-modules-gssapi-mit krb5-kdc krb5-admin-server krb5-user"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing Debian packages:$missing" >&2
        echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
        exit 1
    fi
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    case " $missing " in
        *" slapd "*)
            # The package creates and, where services may start, starts a default instance
            # (dc=nodomain, port 389 on every interface). The tests never use it: each starts
            # its own slapd on a free loopback port (Tests/Integration/slapd.py). So the one
            # installed here is stopped and disabled; a slapd that was already there is not.
            if [ -d /run/systemd/system ]; then
                systemctl disable --now slapd.service >/dev/null 2>&1 || true
            elif [ -s /run/slapd/slapd.pid ]; then
                invoke-rc.d slapd stop >/dev/null 2>&1 || true
                update-rc.d slapd disable >/dev/null 2>&1 || true
            fi
            ;;
    esac
    # The same for MIT Kerberos: the tests start their own krb5kdc, with a realm of their
    # own, on a free loopback port (Tests/Integration/kdc.py); kadmin.local (from
    # krb5-admin-server) edits that realm's database directly, so no kadmind is needed. The
    # packages' daemons would have no realm database to serve; they are stopped and disabled
    # when installed here.
    for daemon in krb5-kdc krb5-admin-server; do
        case " $missing " in
            *" $daemon "*)
                if [ -d /run/systemd/system ]; then
                    systemctl disable --now "$daemon.service" >/dev/null 2>&1 || true
                else
                    invoke-rc.d "$daemon" stop >/dev/null 2>&1 || true
                    update-rc.d "$daemon" disable >/dev/null 2>&1 || true
                fi
                ;;
        esac
    done
fi

# Debian's python3, so the venv also sees python3-paramiko and python3-pexpect.
VENV=.venv-test
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import fido2, pytest' 2>/dev/null; then
    echo "install-deps: creating $VENV (fido2 from PyPI)"
    rm -rf "$VENV"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check 'fido2==1.1.3' 'pytest==8.3.3'
fi
