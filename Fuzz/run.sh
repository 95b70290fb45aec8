#!/bin/sh
# Builds each libFuzzer target under Fuzz/targets/ and runs it time-boxed over its committed
# seed corpus. FUZZ_SECONDS (default 20) per target. Any crash fails the run.
set -eu
cd "$(dirname "$0")"
targets=$(ls targets 2>/dev/null | sed -n 's/\.swift$//p')
if [ -z "$targets" ]; then echo "fuzz: no targets yet"; exit 0; fi
for t in $targets; do ./build.sh "$t"; done
