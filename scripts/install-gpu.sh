#!/usr/bin/env bash
# Installs the optional GPU backend @tensorflow/tfjs-node-gpu and then runs `mic-train doctor --backend tensorflow-gpu`,
# whose exit code this script returns (0: training will run on the GPU).
#
#   scripts/install-gpu.sh                              the package as published: its install script downloads
#                                                       libtensorflow 2.9.1 (CUDA 11.2, cuDNN 8.1) and its prebuilt addon
#   scripts/install-gpu.sh --libtensorflow URL|FILE     another libtensorflow C library (a libtensorflow-gpu-linux-x86_64
#                                                       tar.gz, e.g. one built for CUDA 12), handed to the package through
#                                                       its own scripts/custom-binary.json ("tf-lib"); a FILE is served to
#                                                       it from 127.0.0.1 for the duration of the install
#   --build-addon      compile the package's addon against that library (node-gyp: needs python3, make, g++ and
#                      Node's headers) instead of downloading the prebuilt 4.22.0 addon
#   --skip-doctor      stop after installing
#
# The addon calls 55 functions of TensorFlow's C API (the TF_/TFE_ names in the package's binding/*.cc, less the
# TF_TString_* helpers, which are inline in TensorFlow's headers). The eager part (TFE_*) carries no stability
# promise, so this script checks with `nm -D` that the library exports every one, before installing (FILE) and
# after (the library actually installed), and stops with the missing names otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_NAME=@tensorflow/tfjs-node-gpu
LIBTF=""
BUILD_ADDON=0
RUN_DOCTOR=1

usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "install-gpu: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --libtensorflow) [ $# -ge 2 ] || die "--libtensorflow needs a URL or a FILE"; LIBTF="$2"; shift 2 ;;
    --build-addon) BUILD_ADDON=1; shift ;;
    --skip-doctor) RUN_DOCTOR=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# The version pinned in package.json's optionalDependencies (every @tensorflow/* package stays at one version).
VERSION="$(node -p "require('$ROOT/package.json').optionalDependencies['$PKG_NAME']")"
[ "$VERSION" != "undefined" ] || die "package.json has no optional dependency $PKG_NAME"

LIBTF_FILE=""
case "$LIBTF" in
  "") ;;
  http://*|https://*) case "$LIBTF" in *.tar.gz) ;; *) die "--libtensorflow $LIBTF: the package's installer unpacks only .tar.gz archives" ;; esac ;;
  *)
    [ -f "$LIBTF" ] || die "--libtensorflow $LIBTF: no such file"
    case "$LIBTF" in *.tar.gz) ;; *) die "--libtensorflow $LIBTF: expected a .tar.gz archive (lib/libtensorflow.so.2*, include/)" ;; esac
    LIBTF_FILE="$(cd "$(dirname "$LIBTF")" && pwd)/$(basename "$LIBTF")"
    ;;
esac
command -v nm >/dev/null || [ -z "$LIBTF" ] || die "nm (binutils) is needed to check the library's symbols"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== installing $PKG_NAME@$VERSION without its install script"
(cd "$ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund "$PKG_NAME@$VERSION")
PKG_DIR="$ROOT/node_modules/$PKG_NAME"
[ -f "$PKG_DIR/binding/tfjs_backend.cc" ] || die "$PKG_DIR/binding: the binding's sources are missing"

# Exported C-API functions the binding calls: TF_/TFE_ calls in its sources, less its own wrapper types and the
# TF_TString_* functions (static inline in TensorFlow's headers, compiled into the addon).
own_types="$(grep -ohE '(class|struct)[[:space:]]+TFE?_[A-Za-z0-9_]+' "$PKG_DIR"/binding/*.h | awk '{print $2}' | sort -u)"
grep -ohE '\bTFE?_[A-Za-z0-9_]+[[:space:]]*\(' "$PKG_DIR"/binding/*.cc "$PKG_DIR"/binding/*.h \
  | sed -E 's/[[:space:]]*\($//' | sort -u | grep -vxF "$own_types" | grep -v '^TF_TString_' > "$WORK/needed.txt"
echo "== the binding calls $(wc -l < "$WORK/needed.txt") C-API functions"

# Prints the needed functions that the libraries in directory $1 do not export.
missing_symbols() {
  local libs=("$1"/libtensorflow.so* "$1"/libtensorflow_framework.so*)
  nm -D --defined-only "${libs[@]}" 2>/dev/null | awk '{print $NF}' | sort -u > "$WORK/exported.txt"
  comm -23 "$WORK/needed.txt" "$WORK/exported.txt"
}

if [ -n "$LIBTF_FILE" ]; then
  mkdir -p "$WORK/check"
  tar -xzf "$LIBTF_FILE" -C "$WORK/check" --wildcards 'lib/libtensorflow*' 'lib/*/libtensorflow*' 2>/dev/null \
    || tar -xzf "$LIBTF_FILE" -C "$WORK/check" --wildcards '*libtensorflow*.so*'
  libdir="$(dirname "$(find "$WORK/check" -name 'libtensorflow.so*' | head -1)")"
  [ -n "$libdir" ] && [ "$libdir" != "." ] || die "$LIBTF: no lib/libtensorflow.so* inside"
  miss="$(missing_symbols "$libdir")"
  [ -z "$miss" ] || die "$LIBTF does not export what the binding calls: $(echo $miss)"
  echo "== $LIBTF exports all of them"
  rm -rf "$WORK/check"
  # Serve the file to the package's installer (it downloads tf-lib over http/https only).
  cat > "$WORK/serve.mjs" <<'EOF'
import fs from 'node:fs';
import http from 'node:http';
const file = process.argv[2];
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': fs.statSync(file).size });
  fs.createReadStream(file).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
EOF
  node "$WORK/serve.mjs" "$LIBTF_FILE" > "$WORK/port" &
  SERVER_PID=$!
  for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  [ -s "$WORK/port" ] || die "could not start the local file server"
  LIBTF="http://127.0.0.1:$(cat "$WORK/port")/$(basename "$LIBTF_FILE")"
fi

CUSTOM="$PKG_DIR/scripts/custom-binary.json"
rm -f "$CUSTOM"
if [ -n "$LIBTF" ]; then
  # tf-lib: the library; addon: the package's own prebuilt addon (same host and name its installer uses), unless
  # --build-addon (then install.js builds it from source against the new headers).
  node - "$PKG_DIR" "$LIBTF" "$BUILD_ADDON" > "$CUSTOM" <<'EOF'
const [dir, lib, build] = process.argv.slice(2);
const pj = require(`${dir}/package.json`);
const out = { 'tf-lib': lib };
if (build !== '1') {
  const type = pj.name.includes('gpu') ? 'GPU' : 'CPU';
  out.addon = { host: pj.binary.host, remote_path: pj.binary.remote_path, package_name: `${type}-linux-${pj.version}.tar.gz` };
}
console.log(JSON.stringify(out, null, 2));
EOF
  echo "== $CUSTOM:"; cat "$CUSTOM"
fi

echo "== running the package's installer (scripts/install.js gpu download)"
(cd "$PKG_DIR" && PATH="$ROOT/node_modules/.bin:$PKG_DIR/node_modules/.bin:$PATH" node scripts/install.js gpu download) \
  || die "the package's installer failed (see above)"

libdir="$PKG_DIR/deps/lib"
compgen -G "$libdir/libtensorflow.so*" >/dev/null || die "no libtensorflow in $libdir after installing"
addon="$(find "$PKG_DIR/lib" -name tfjs_binding.node 2>/dev/null | head -1)"
[ -n "$addon" ] || die "no tfjs_binding.node under $PKG_DIR/lib after installing"
if command -v nm >/dev/null; then
  miss="$(missing_symbols "$libdir")"
  [ -z "$miss" ] || die "the installed libtensorflow does not export: $(echo $miss)"
  echo "== installed: $(basename "$(ls "$libdir"/libtensorflow.so.* | sort | tail -1)"), addon $addon; all C-API functions present"
fi

if [ "$RUN_DOCTOR" = 1 ]; then
  echo "== npx mic-train doctor --backend tensorflow-gpu"
  cd "$ROOT"
  exec node bin/mic-train.js doctor --backend tensorflow-gpu
fi
