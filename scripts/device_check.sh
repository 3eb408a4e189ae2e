#!/usr/bin/env bash
# The GPU checks of a lent GPU (the device tool): the gpu-marked tests, then each method through the command line
# on CUDA, in one table written to $OUT/gpu_check.md.
#
# Here, once:  python scripts/device_data.py pack --vgg-through relu5_1 --no-data    # .devicedata/: VGG to conv5_1
#              (optional) pip download av --only-binary=:all: --no-deps -d .devicedata/wheels   # for the video rows;
#              the wheel is 35 MB: it fits beside the tree and these weights, not beside the training data
# The call:    run(command="bash scripts/device_check.sh", carry=[".devicedata"], timeout_s=300)
#
# DEVICE=cpu OUT=/tmp/o bash scripts/device_check.sh runs the same table here (the gpu tests skip).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?the device tool sets OUT}"
DEVICE=${DEVICE:-cuda}
export PYTHONPATH=src:/tmp/site VIDEOSTYLE_CACHE=/tmp/vc
python3 scripts/device_data.py unpack
python3 -c "import pytest" 2>/dev/null || python3 -m pip install -q --no-index --no-deps --target /tmp/site .devicedata/wheels/*-py3-none-any.whl
if ls .devicedata/wheels/av-*.whl >/dev/null 2>&1; then
  rm -rf /tmp/site/av  # the stand-in module that unpack leaves
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .devicedata/wheels/av-*.whl || echo "the av wheel does not install here"
fi
{ python3 -V; python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } | tee "$OUT/device.txt"
[ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$OUT/device.txt"

python3 -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider 2>&1 | tail -15 | tee "$OUT/gpu_tests.txt"

row() {  # name, then the command's arguments: one table row with the exit status, the seconds and the error line
  local name=$1; shift
  local began=$SECONDS
  if err=$(python3 -m videostyle.cli "$@" --device "$DEVICE" -q 2>&1 >/dev/null); then
    echo "| $name | ok | $((SECONDS - began)) s | |"
  else
    echo "| $name | FAILED | $((SECONDS - began)) s | $(echo "$err" | tail -1) |"
  fi
}
P=assets/grace_hopper.jpg S=assets/starry_night.jpg
{
  echo "| check | result | wall time | error |"
  echo "| --- | --- | --- | --- |"
  row "image --model starry_night" image $P --model starry_night -o /tmp/c1.png
  row "image --model starry_night_lean" image $P --model starry_night_lean -o /tmp/c2.png
  row "image --model starry_night_realtime" image $P --model starry_night_realtime -o /tmp/c3.png
  row "image --model starry_night --precision bfloat16" image $P --model starry_night --precision bfloat16 --runtime torch -o /tmp/c1b.png
  row "image --model starry_night --precision float16" image $P --model starry_night --precision float16 --runtime torch -o /tmp/c1h.png
  row "image --method reconet" image $P --method reconet -o /tmp/c4.png
  row "image --method adain" image $P --method adain -s $S -o /tmp/c5.png
  row "image --method arbitrary-video" image $P --method arbitrary-video -s $S -o /tmp/c6.png
  row "image --method style-swap --model swap_decoder" image $P --method style-swap --model swap_decoder -s $S -o /tmp/c7.png
  row "image (optimisation, 512 px, 100 iterations)" image $P -s $S --size 512 --iterations 100 -o /tmp/c8.png
  row "image --tile 256 (optimisation)" image $P -s $S --size 512 --iterations 20 --tile 256 -o /tmp/c9.png
  row "image --tile 256 --model starry_night" image $P --model starry_night --size 1024 --tile 256 -o /tmp/c10.png
  if python3 -c "import av; av.open" 2>/dev/null; then
    row "video --model starry_night" video assets/carphone.mp4 --model starry_night --size 0 -o /tmp/v1.mp4
    row "video --method arbitrary-video" video assets/carphone.mp4 --method arbitrary-video -s $S --size 0 -o /tmp/v2.mp4
    row "video (optimisation, 0.5 s)" video assets/carphone.mp4 -s $S --size 176 --end 0.5 --flow dis --first-iterations 50 --iterations 10 -o /tmp/v3.mp4
  else
    echo "| video rows | skipped | | no PyAV here: carry its wheel in .devicedata/wheels |"
  fi
} | tee "$OUT/gpu_check.md"
