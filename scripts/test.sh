#!/usr/bin/env bash
# Set up vaat with its test oracles and run the whole test suite against ../shared/fixtures,
# twice: once with types from the dumps' own BTF (a bare vmcore, no debuginfo), once with DWARF
# from the debug vmlinux the set-up installs. Every analysis must agree with the truth both ways.
set -euo pipefail
cd "$(dirname "$0")/.."
# --with-cross: the linux-arm64-gnu binary too, cross-built and run under qemu by test/packaging.test.ts
bash scripts/setup.sh --with-test-tools --with-cross
if [ ! -d "${VAAT_FIXTURES:-../shared/fixtures}" ]; then
  echo "test: fixtures not found at ${VAAT_FIXTURES:-../shared/fixtures} (set VAAT_FIXTURES)" >&2
  exit 1
fi
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
# Both passes run whatever the first gives; the exit status says whether either failed.
status=0
echo "== tests, types from each dump's own BTF (VAAT_VMLINUX=none)"
# The fixed-seed fuzz run (test/fuzz.test.ts) does not depend on where types come from: once, in the second pass.
VAAT_VMLINUX=none npx --no-install vitest run --exclude test/fuzz.test.ts --reporter=default --reporter=json --outputFile.json="$results/btf.json" "$@" || status=1
echo "== tests, types from the debug vmlinux's DWARF where installed"
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$results/dwarf.json" "$@" || status=1
# One closing line for both passes.
node -e '
  const r = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
  const sum = (k) => r.reduce((n, x) => n + x[k], 0);
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped`);
' "$results/btf.json" "$results/dwarf.json"
exit $status
