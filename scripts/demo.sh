#!/usr/bin/env bash
# Set up vaat and run it on the bundled sample vmcore.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec bin/vaat.js sample/vmcore-cgroup-mutex-hung.kdump-zstd "$@"
