#!/usr/bin/env bash
# Proves the package users install: build, `npm pack`, install the tarball into a throwaway prefix, run it elsewhere.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
npm run build --silent
npm pack --silent --pack-destination "$work" >/dev/null
tarball="$(ls "$work"/hashall-*.tgz)"
# Only the product: the bundled CLI, its source map (stack traces under HASHALL_DEBUG) and its launchers (sh, node), schemas, examples, README, package.json.
unexpected="$(tar -tzf "$tarball" | grep -Ev '^package/(dist/cli/(hashall|hashall\.cjs|main\.cjs|main\.cjs\.map)$|schemas/|examples/|README\.md$|package\.json$|LICENSE$)' || true)"
if [ -n "$unexpected" ]; then
  echo "pack-check: the tarball ships files users do not run:" >&2
  echo "$unexpected" >&2
  exit 1
fi
npm install -g --prefix "$work/prefix" --prefer-offline --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
bin="$work/prefix/bin/hashall"
mkdir "$work/elsewhere"
cd "$work/elsewhere"
# The launcher's V8 code cache goes to a folder of this check, not the user's ~/.cache.
export XDG_CACHE_HOME="$work/cache"
version="$("$bin" --version)"
[ "$version" = "$(node -p "require('$root/package.json').version")" ] || { echo "pack-check: --version printed '$version'" >&2; exit 1; }
"$bin" init --path "$work/elsewhere" >/dev/null 2>&1
[ -f "$work/elsewhere/hashall.yaml" ] || { echo "pack-check: init wrote no hashall.yaml" >&2; exit 1; }
"$bin" validate --config "$work/elsewhere/hashall.yaml" >/dev/null 2>&1 || { echo "pack-check: validate of the starter config failed" >&2; "$bin" validate --config "$work/elsewhere/hashall.yaml" >&2 || true; exit 1; }
# The first --version wrote its code cache; the next one runs from it.
HASHALL_DEBUG=1 "$bin" --version 2>&1 >/dev/null | grep -q '^hashall: code cache: used ' || { echo "pack-check: the installed hashall did not use its code cache" >&2; exit 1; }
echo "pack-check: $(tar -tzf "$tarball" | wc -l) files in $(basename "$tarball"); installed hashall $version runs --version, init and validate, and uses its code cache"
