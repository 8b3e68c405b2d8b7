#!/usr/bin/env bash
# Run many mic-train runs on a Slurm cluster as a job array: one independent process per (dataset, seed).
# Submit with:   sbatch --array=0-9 scripts/slurm-array.sh
# Each task picks its line from the RUNS table below by SLURM_ARRAY_TASK_ID. Results land in
# Training_Results/<dataset>/<savename>, one folder per task, so tasks never write to the same place.
# An interrupted task can be continued with:  npx mic-train --resume Training_Results/<dataset>/<savename>
#SBATCH --job-name=mic-train
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=48:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"

DATASETS=(cub200 cars196)
SEEDS=(0 1 2 3 4)
i=${SLURM_ARRAY_TASK_ID:?run this through sbatch --array}
dataset=${DATASETS[$((i / ${#SEEDS[@]}))]}
seed=${SEEDS[$((i % ${#SEEDS[@]}))]}

case "$dataset" in
  cub200)  extra=(--shared_num_classes 30  --adv_weights 2500 --task_p 1 0.8 --tau 50 --n_epochs 100) ;;
  cars196) extra=(--shared_num_classes 150 --adv_weights 500  --task_p 1 0.8 --tau 60 --n_epochs 110) ;;
esac

# Slurm already restricts the visible GPUs to the allocated one, so --gpu 0 is right inside the job.
exec npx mic-train --dataset "$dataset" --seed "$seed" --savename "mic_${dataset}_seed${seed}" --gpu 0 \
  --cluster_update_freq 3 --random_cluster_pick_p 0.2 "${extra[@]}"
