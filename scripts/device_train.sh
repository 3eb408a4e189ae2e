#!/usr/bin/env bash
# One device call of the any-style training on a lent GPU (the device tool), resumable across calls.
#
# Here, once:  python scripts/build_photo_corpus.py -o runs/photos
#              python scripts/build_style_corpus.py -o runs/corpus
#              python scripts/device_data.py pack                     # .devicedata/, 53 MiB with the tree
# Each call:   run(command="bash scripts/device_train.sh", carry=[".devicedata", "runs/device"], timeout_s=590)
#              then copy the returned model into runs/device/ and commit it (the next call starts from it).
#
# It unpacks the VGG weights, runs the speed table (benchmarks/train_speed.py) when SPEED=1, then trains for
# MINUTES minutes and writes to $OUT: the model (weights in float16), its training log and the speed table.
# The GPU checks of the methods are scripts/device_check.sh (another pack: VGG to conv5_1, no corpora).
# The recipe is set by the variables below. DEVICE=cpu SIZE=64 BATCH=2 MINUTES=0.3 SPEED=0 OUT=/tmp/o runs it here.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?the device tool sets OUT}"
NAME=${NAME:-any_style_teacher}
ARCH=${ARCH:-johnson}
STATISTIC=${STATISTIC:-mean_std}
LR=${LR:-5e-4}
CLIP=${CLIP:-3e7}  # about 5x the gradient norm of the first steps (4e6-1.6e7 at 128 px on the CPU): clips spikes only
MINUTES=${MINUTES:-5}  # with SPEED=1 (about 3 min) the call stays under the 10-minute limit
SPEED=${SPEED:-1}

DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-256}
BATCH=${BATCH:-16}

export PYTHONPATH=src:/tmp/site VIDEOSTYLE_CACHE=/tmp/vc  # before unpack: the carried weights go to this cache only
python3 scripts/device_data.py unpack
{ python3 -V; python3 -c "import torch; print('torch', torch.__version__)"; } | tee "$OUT/device.txt"
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$OUT/device.txt"; fi

if [ "$SPEED" = 1 ]; then
  python3 benchmarks/train_speed.py --device "$DEVICE" --size "$SIZE" --batch-size "$BATCH" --arch fast johnson --batches host device \
    --precision float32 bfloat16 --steps 20 --warmup 3 --photos .devicedata/photos --styles .devicedata/styles/portrait \
    2>&1 | tee "$OUT/train_speed.md"
fi

# Each call starts from the weights of the last (runs/device/$NAME.safetensors, carried, float16): a checkpoint
# with Adam's state is three times the weights and does not fit the device's 64 MiB beside the data, so Adam
# starts afresh each call. Within a call, a run cut off resumes from /tmp/run as usual.
INIT=()
[ -f "runs/device/$NAME.safetensors" ] && INIT=(--init "runs/device/$NAME.safetensors")
python3 -m videostyle.cli train --method arbitrary-video \
  -s .devicedata/styles/portrait -s .devicedata/styles/landscape -s .devicedata/styles/pattern \
  -d .devicedata/photos --arch "$ARCH" --size "$SIZE" --batch-size "$BATCH" --steps 200000 --lr "$LR" \
  --output-temporal-weight 2e7 --style-statistic "$STATISTIC" --batches device --precision bfloat16 --max-grad-norm "$CLIP" \
  --checkpoint-every 250 --minutes "$MINUTES" --keep-run --run-dir /tmp/run -o /tmp/$NAME.safetensors "${INIT[@]}" --device "$DEVICE" -q
cp /tmp/run/log.csv "$OUT/$NAME.log.csv"
python3 scripts/device_data.py half "/tmp/$NAME.safetensors" "$OUT/$NAME.safetensors"
tail -1 "$OUT/$NAME.log.csv"
