#!/bin/sh
# The second-device story on two simulated hosts through the real module and libpam.
# Until the PAM module lands (issue 6) this prints what is built so far.
set -eu
cd "$(dirname "$0")/.."
echo "pam_passkey demo: the login flow is not built yet; built products:"
ls -1 "${PAM_PASSKEY_BUILD:-.build/release}" | grep -E '^(pam_passkey\.so|pam_passkey_helper|passkeyctl)$'
