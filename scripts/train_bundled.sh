#!/usr/bin/env bash
# Trains the bundled feed-forward models (see docs/models.md). Two queues run side by side,
# one CPU thread each; every run checkpoints every 100 steps and resumes when started again.
set -euo pipefail
cd "$(dirname "$0")/.."
M=../shared/media
OUT=src/videostyle/models/bundled
DATA=(-d $M/photos -d $M/video/carphone.mp4 -d $M/video/tree.avi -d $M/video/vtest.avi)
export OMP_NUM_THREADS=1
queue_a() {
  videostyle train -s $M/styles/starry_night.jpg "${DATA[@]}" --arch fast --steps 1000 -o $OUT/starry_night.safetensors -q
  videostyle train -s $M/styles/happy_fish.jpg "${DATA[@]}" --arch fast --steps 1000 -o $OUT/happy_fish.safetensors -q
}
queue_b() {
  videostyle train -s $M/styles/starry_night.jpg -s $M/styles/happy_fish.jpg -s $M/styles/graffiti.png "${DATA[@]}" --arch fast --steps 1800 -o $OUT/three_styles.safetensors -q
  videostyle train -s $M/styles/starry_night.jpg "${DATA[@]}" --arch johnson --steps 1000 -o $OUT/starry_night_johnson.safetensors -q
}
queue_a > runs/queue_a.log 2>&1 &
queue_b > runs/queue_b.log 2>&1 &
wait
