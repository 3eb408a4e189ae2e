#!/usr/bin/env bash
# One device call of the CartoonGAN training on a lent GPU (the device tool), resumable across calls.
#
# Here, once:  python scripts/build_photo_corpus.py -o runs/photos
#              python scripts/build_cartoon_corpus.py -o runs/cartoon
#              python scripts/device_data.py pack --cartoons          # .devicedata/: photos, cartoons, VGG to relu4_3
# Each call:   run(command="bash scripts/device_train_cartoon.sh", carry=[".devicedata", "runs/device"], timeout_s=590)
#              then copy the returned model into runs/device/ and commit it (the next call starts from it).
#
# STAGE=gan (the default) trains the generator and the discriminator; a first call (no runs/device/$NAME) starts with
# INIT_STEPS of the content term alone. STAGE=temporal starts from runs/device/$NAME and adds ReCoNet's temporal
# terms, writing ${NAME}_temporal. Writes to $OUT the model (weights in float16) and its training log.
# DEVICE=cpu SIZE=64 BATCH=2 MINUTES=0.3 OUT=/tmp/o runs it here.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?the device tool sets OUT}"
NAME=${NAME:-cartoon}
ARCH=${ARCH:-johnson}
STAGE=${STAGE:-gan}
MINUTES=${MINUTES:-8}
INIT_STEPS=${INIT_STEPS:-500}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-256}
BATCH=${BATCH:-8}

export PYTHONPATH=src:/tmp/site VIDEOSTYLE_CACHE=/tmp/vc
python3 scripts/device_data.py unpack
{ python3 -V; python3 -c "import torch; print('torch', torch.__version__)"; } | tee "$OUT/device.txt"
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$OUT/device.txt"; fi

# Each call starts from the generator of the last (carried, float16); the discriminator and Adam start afresh, with
# the content-only start only on the very first call.
OUTPUT=$NAME
EXTRA=(--init-steps "$INIT_STEPS")
if [ "$STAGE" = temporal ]; then
  OUTPUT=${NAME}_temporal
  EXTRA=(--init-steps 0 --output-temporal-weight 2e6 --feature-temporal-weight 1e5)
fi
if [ -f "runs/device/$OUTPUT.safetensors" ]; then
  EXTRA=(--init "runs/device/$OUTPUT.safetensors" --init-steps 0 "${EXTRA[@]:2}")
elif [ "$STAGE" = temporal ]; then
  EXTRA=(--init "runs/device/$NAME.safetensors" "${EXTRA[@]}")
fi
python3 -m videostyle.cli train --method cartoongan -s .devicedata/cartoons -d .devicedata/photos --arch "$ARCH" --size "$SIZE" \
  --batch-size "$BATCH" --steps 200000 --checkpoint-every 250 --minutes "$MINUTES" --keep-run --run-dir /tmp/run \
  -o "/tmp/$OUTPUT.safetensors" "${EXTRA[@]}" --device "$DEVICE" -q
cp /tmp/run/log.csv "$OUT/$OUTPUT.log.csv"
python3 scripts/device_data.py half "/tmp/$OUTPUT.safetensors" "$OUT/$OUTPUT.safetensors"
tail -1 "$OUT/$OUTPUT.log.csv"
