#!/usr/bin/env bash
# Set up vaat with its test oracles and run the whole test suite against ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-tools
if [ ! -d "${VAAT_FIXTURES:-../shared/fixtures}" ]; then
  echo "test: fixtures not found at ${VAAT_FIXTURES:-../shared/fixtures} (set VAAT_FIXTURES)" >&2
  exit 1
fi
exec npx --no-install vitest run "$@"
