#!/usr/bin/env bash
# The MIC paper's five runs (Roth, Brattoli, Ommer, ICCV 2019; docs/porting.md#paper-runs) with the original Result_Runs.sh's flags, plus
# single-task baselines.
#
#   ./Result_Runs.sh [RECIPE…] [-- EXTRA FLAGS…]
#
# With no RECIPE it runs the five paper recipes one after another; EXTRA FLAGS are appended to every run (later
# flags win), e.g. a smoke run on tiny data:
#   ./Result_Runs.sh -- --n_epochs 1 --input-size 32 --bs 8 --source_path DIR --not_pretrained
# It stops at the first run that fails (naming it) and prints where each run folder went.
# `./Result_Runs.sh --list` prints the recipes with their flags. Datasets go in Datasets/<name>/ (see
# Datasets/README.md); ImageNet weights as in README "Pretrained weights". The original pinned the SOP run to
# `--gpu 6` (the authors' machine); here every run uses the default GPU 0: add `-- --gpu N` to choose.
set -euo pipefail
((BASH_VERSINFO[0] >= 4)) || { echo "Result_Runs.sh: needs bash 4 or newer (this is $BASH_VERSION)" >&2; exit 2; }

# ---- The paper's runs (MIC: ResNet50, 128-d, margin loss + distance sampling for both tasks) ----
declare -A RECIPE=(
  [cub200]="         --dataset cub200          --seed 0 --savename result_run_cub200  --shared_num_classes 30  --cluster_update_freq 3 --adv_weights 2500 --task_p 1 0.8 --tau 50    --n_epochs 100 --random_cluster_pick_p 0.2"
  [cars196]="        --dataset cars196         --seed 0 --savename result_run_cars196 --shared_num_classes 150 --cluster_update_freq 3 --adv_weights 500  --task_p 1 0.8 --tau 60    --n_epochs 110 --random_cluster_pick_p 0.2"
  [online_products]="--dataset online_products --seed 0 --savename result_run_sop     --shared_num_classes 50  --cluster_update_freq 3 --adv_weights 250  --task_p 1 0.5 --tau 20 35 --n_epochs 45  --random_cluster_pick_p 0.2"
  [in-shop]="        --dataset in-shop         --seed 0 --savename result_run_inshop  --shared_num_classes 150 --cluster_update_freq 3 --adv_weights 250  --task_p 1 0.8 --tau 50    --n_epochs 70  --random_cluster_pick_p 0.2"
  [vehicle_id]="     --dataset vehicle_id      --seed 0 --savename result_run_vhid    --shared_num_classes 50  --cluster_update_freq 3 --adv_weights 250  --task_p 1 0.5 --tau 20 35 --n_epochs 45  --random_cluster_pick_p 0.2"
)
PAPER=(cub200 cars196 online_products in-shop vehicle_id)

# ---- Single-task baselines (no Shared task, no adversarial term: no clustering at all) ----
# Schedules of the baseline repository's published single-task runs (CUB 50 epochs / tau 30, CARS 70 / 45,
# SOP 40 / 30, In-Shop 40 / 25); VehicleID had none published there, so it keeps the MIC run's schedule.
# ProxyNCA only on CUB/CARS: SOP, In-Shop and VehicleID would need over 10,000 proxies.
RECIPE+=(
  [baseline-margin-cub200]="           --dataset cub200          --seed 0 --savename baseline_margin_cub200    --task_p 1 0 --adv_weights 0 --loss marginloss                            --tau 30    --n_epochs 50"
  [baseline-triplet-cub200]="          --dataset cub200          --seed 0 --savename baseline_triplet_cub200   --task_p 1 0 --adv_weights 0 --loss triplet --sampling semihard semihard --tau 30    --n_epochs 50"
  [baseline-proxynca-cub200]="         --dataset cub200          --seed 0 --savename baseline_proxynca_cub200  --task_p 1 0 --adv_weights 0 --loss proxynca                              --tau 30    --n_epochs 50"
  [baseline-margin-cars196]="          --dataset cars196         --seed 0 --savename baseline_margin_cars196   --task_p 1 0 --adv_weights 0 --loss marginloss                            --tau 45    --n_epochs 70"
  [baseline-triplet-cars196]="         --dataset cars196         --seed 0 --savename baseline_triplet_cars196  --task_p 1 0 --adv_weights 0 --loss triplet --sampling semihard semihard --tau 45    --n_epochs 70"
  [baseline-proxynca-cars196]="        --dataset cars196         --seed 0 --savename baseline_proxynca_cars196 --task_p 1 0 --adv_weights 0 --loss proxynca                              --tau 45    --n_epochs 70"
  [baseline-margin-online_products]="  --dataset online_products --seed 0 --savename baseline_margin_sop       --task_p 1 0 --adv_weights 0 --loss marginloss                            --tau 30    --n_epochs 40"
  [baseline-margin-in-shop]="          --dataset in-shop         --seed 0 --savename baseline_margin_inshop    --task_p 1 0 --adv_weights 0 --loss marginloss                            --tau 25    --n_epochs 40"
  [baseline-margin-vehicle_id]="       --dataset vehicle_id      --seed 0 --savename baseline_margin_vhid      --task_p 1 0 --adv_weights 0 --loss marginloss                            --tau 20 35 --n_epochs 45"
)
BASELINES=(baseline-margin-cub200 baseline-triplet-cub200 baseline-proxynca-cub200 baseline-margin-cars196 baseline-triplet-cars196
  baseline-proxynca-cars196 baseline-margin-online_products baseline-margin-in-shop baseline-margin-vehicle_id)

# ---- Running them ----
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIC_TRAIN=(node "$HERE/bin/mic-train.js")

usage() {
  echo "usage: $0 [RECIPE…] [-- EXTRA FLAGS…]   (no RECIPE: the five paper runs; --list shows every recipe's flags)"
}
list() {
  local name words
  for name in "${PAPER[@]}" "${BASELINES[@]}"; do
    read -r -a words <<<"${RECIPE[$name]}"
    printf '%-32s %s\n' "$name" "${words[*]}"
  done
}

chosen=()
extra=()
while (($#)); do
  case "$1" in
    --) shift; extra=("$@"); break ;;
    -h | --help) usage; echo; list; exit 0 ;;
    --list) list; exit 0 ;;
    *)
      if [[ -z "${RECIPE[$1]+set}" ]]; then
        echo "Result_Runs.sh: unknown recipe '$1'; expected one of: ${PAPER[*]} ${BASELINES[*]}" >&2
        exit 2
      fi
      chosen+=("$1"); shift ;;
  esac
done
((${#chosen[@]})) || chosen=("${PAPER[@]}")

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
done_runs=()
for name in "${chosen[@]}"; do
  read -r -a flags <<<"${RECIPE[$name]}"
  echo "=== Result_Runs.sh: $name: mic-train ${flags[*]} ${extra[*]}" >&2
  # The run's log goes to the terminal and, through tee, to $log, where its "run folder:" line is read back.
  set +e
  { "${MIC_TRAIN[@]}" "${flags[@]}" "${extra[@]}" 2>&1 1>&3 3>&- | tee "$log" >&2; } 3>&1
  status=${PIPESTATUS[0]}
  set -e
  dir="$(sed -n 's/^run folder: //p' "$log" | tail -n 1)"
  if ((status != 0)); then
    echo "Result_Runs.sh: recipe '$name' failed (exit $status)${dir:+; its run folder: $dir}" >&2
    for line in "${done_runs[@]}"; do echo "  finished: $line" >&2; done
    exit "$status"
  fi
  done_runs+=("$name -> ${dir:-(no run folder written)}")
done
echo "Result_Runs.sh: ${#done_runs[@]} run(s) finished; run folders:"
for line in "${done_runs[@]}"; do echo "  $line"; done
