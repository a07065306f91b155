#!/usr/bin/env bash
# Generates the Python stubs of proto/repair/v1 into examples/python/gen.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/gen}"
mkdir -p "$out"
python3 -m grpc_tools.protoc -I "$here/../../proto" \
  --python_out="$out" --grpc_python_out="$out" \
  "$here"/../../proto/repair/v1/*.proto
touch "$out/repair/__init__.py" "$out/repair/v1/__init__.py"
