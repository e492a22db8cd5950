#!/usr/bin/env bash
# Runs the shared conformance suite and fails on any failure not listed in
# conformance/known-failures.txt. Usage: conformance-gate.sh BIN
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")/.." && pwd)
runner="$here/../shared/conformance/run.py"
if [ ! -f "$runner" ]; then
  echo "conformance: ../shared/conformance not present; skipped"
  exit 0
fi
out=$(python3 "$runner" --bin "$bin" || true)
echo "$out"
known=$(grep -v '^#' "$here/conformance/known-failures.txt" | sed '/^$/d' || true)
new=0
while IFS= read -r line; do
  case "$line" in
    FAIL*|ERROR*)
      id=$(echo "$line" | sed -E 's/^(FAIL|ERROR) +([^:]+):.*/\2/')
      if ! grep -qxF "$id" <<<"$known"; then
        echo "conformance: new failure: $id"
        new=1
      fi
      ;;
  esac
done <<<"$out"
tail -n1 <<<"$out" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$' || { echo "conformance: the runner printed no summary"; exit 1; }
exit $new
