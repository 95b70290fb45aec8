#!/bin/sh
# make demo: see scripts/demo.py.
set -eu
cd "$(dirname "$0")/.."
exec .venv-test/bin/python scripts/demo.py
