#!/usr/bin/env bash
# Copy the files the chart ships but does not own into charts/iss-tracker/: Helm reads nothing
# outside the chart directory. Sources of truth:
#   k8s/crds/*.yaml             -> charts/iss-tracker/crds/              (the operator's CRD)
#   dashboards/generated/*.json -> charts/iss-tracker/files/dashboards/  (provisioned dashboards)
# With --check, change nothing and exit 1 when a copy differs from its source.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$repo/charts/iss-tracker"
check=false
if [[ "${1:-}" == "--check" ]]; then
  check=true
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--check]" >&2
  exit 2
fi

stale=0
# sync SOURCE_DIR PATTERN TARGET_DIR
sync() {
  local src="$1" pattern="$2" dst="$3" f name
  mkdir -p "$dst"
  shopt -s nullglob
  for f in "$src"/$pattern; do
    name="$(basename "$f")"
    if ! cmp -s "$f" "$dst/$name"; then
      if $check; then
        echo "out of date: ${dst#"$repo"/}/$name (source ${f#"$repo"/})" >&2
        stale=1
      else
        cp "$f" "$dst/$name"
        echo "copied ${f#"$repo"/} -> ${dst#"$repo"/}/$name"
      fi
    fi
  done
  for f in "$dst"/$pattern; do
    name="$(basename "$f")"
    if [[ ! -e "$src/$name" ]]; then
      if $check; then
        echo "no source for: ${f#"$repo"/}" >&2
        stale=1
      else
        rm "$f"
        echo "removed ${f#"$repo"/}"
      fi
    fi
  done
  shopt -u nullglob
}

sync "$repo/k8s/crds" "*.yaml" "$chart/crds"
sync "$repo/dashboards/generated" "*.json" "$chart/files/dashboards"

if $check && [[ $stale -ne 0 ]]; then
  echo "run hack/sync-chart-files.sh to refresh the chart's copies" >&2
  exit 1
fi
