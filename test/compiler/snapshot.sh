#!/bin/sh
# Writes every artefact a pure restructuring of models/ or compiler/ must leave
# byte-identical, then prints one sha256 line per file. Run it on main and on
# the branch, then diff the two manifests:
#
#   test/compiler/snapshot.sh /tmp/before > /tmp/before.sha   # on main
#   test/compiler/snapshot.sh /tmp/after  > /tmp/after.sha    # on the branch
#   diff /tmp/before.sha /tmp/after.sha                        # empty = unchanged
#
# Covered, through the CLI (npm run build first):
#   - JSON model format and calibration: `nibble zoo export` of every zoo
#     network (samples calibration; vgg16 at 224x224 is calibrated analytically);
#   - compiled programs and listings (`nibble compile`): the zoo networks, the
#     embedded MNIST model and the authors' IntegerNet model, batch 1 and 4;
#     plus any extra *.json models in $NIBBLE_SNAPSHOT_MODELS (a folder);
#   - reference outputs (`nibble run --engine reference --save-outputs`) of the
#     MNIST-shaped models on 1000 test images.
# vgg16 at 224x224 needs about 3 GB and a minute; set NIBBLE_SNAPSHOT_SMALL=1 to skip it.
set -eu
out=${1:?usage: snapshot.sh OUTDIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
nibble() { node "$root/dist/cli/main.js" "$@"; }
mkdir -p "$out"

zoo="mnist cifar10 resnet"
[ "${NIBBLE_SNAPSHOT_SMALL:-0}" = 1 ] || zoo="$zoo vgg16"
for n in $zoo; do nibble zoo export "$n" -o "$out/zoo-$n.json" > /dev/null; done
nibble zoo export vgg16 --input-size 32 -o "$out/zoo-vgg16-32.json" > /dev/null
nibble zoo export resnet --input-size 16 --seed 7 -o "$out/zoo-resnet-16-s7.json" > /dev/null
cp "$root/models/embedded/mnist-4bit.json" "$out/embedded-mnist-4bit.json"

compile() { # model-file stem [batch]
  nibble compile "$1" -o "$out/$2.nbl" --listing "$out/$2.s" --batch "${3:-1}" > /dev/null
}
for m in "$out"/*.json; do compile "$m" "$(basename "$m" .json)"; done
compile "$root/../shared/reference/integernet-mnist-4bit.txt" authors-mnist
compile "$root/../shared/reference/integernet-mnist-4bit.txt" authors-mnist-b4 4
compile "$out/zoo-cifar10.json" zoo-cifar10-b4 4
compile "$out/zoo-resnet.json" zoo-resnet-b4 4
if [ -n "${NIBBLE_SNAPSHOT_MODELS:-}" ]; then
  mkdir -p "$out/extra"
  for m in "$NIBBLE_SNAPSHOT_MODELS"/*.json; do
    s=extra/$(basename "$m" .json)
    nibble compile "$m" -o "$out/$s.nbl" --listing "$out/$s.s" > /dev/null 2> "$out/$s.err" || true
  done
fi

for m in "$out/zoo-mnist.json" "$out/embedded-mnist-4bit.json" "$root/../shared/reference/integernet-mnist-4bit.txt"; do
  s=$(basename "$m" | sed 's/\.[a-z]*$//')
  nibble run --model "$m" --engine reference --limit 1000 --save-outputs "$out/$s.outputs.json" > /dev/null
done

cd "$out" && find . -type f ! -name '*.err' | sort | xargs sha256sum
# failures of the extra models must fail the same way
[ -d extra ] && find extra -name '*.err' | sort | xargs cat
exit 0
