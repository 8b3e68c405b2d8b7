#!/usr/bin/env bash
# The five MIC runs of the paper (docs/porting.md#paper-runs), with the same flags as the original Result_Runs.sh.
# Each line is runnable as written once the dataset is in Datasets/<name>/ (see Datasets/README.md) and
# ImageNet weights are available (see README "Pretrained weights"). Pick the lines you need; every run is an
# independent process.

npx mic-train --dataset cub200          --seed 0 --savename result_run_cub200  --gpu 0 --shared_num_classes 30  --cluster_update_freq 3 --adv_weights 2500 --task_p 1 0.8 --tau 50    --n_epochs 100 --random_cluster_pick_p 0.2
npx mic-train --dataset cars196         --seed 0 --savename result_run_cars196 --gpu 0 --shared_num_classes 150 --cluster_update_freq 3 --adv_weights 500  --task_p 1 0.8 --tau 60    --n_epochs 110 --random_cluster_pick_p 0.2
npx mic-train --dataset online_products --seed 0 --savename result_run_sop     --gpu 6 --shared_num_classes 50  --cluster_update_freq 3 --adv_weights 250  --task_p 1 0.5 --tau 20 35 --n_epochs 45  --random_cluster_pick_p 0.2
npx mic-train --dataset in-shop         --seed 0 --savename result_run_inshop  --gpu 0 --shared_num_classes 150 --cluster_update_freq 3 --adv_weights 250  --task_p 1 0.8 --tau 50    --n_epochs 70  --random_cluster_pick_p 0.2
npx mic-train --dataset vehicle_id      --seed 0 --savename result_run_vhid    --gpu 0 --shared_num_classes 50  --cluster_update_freq 3 --adv_weights 250  --task_p 1 0.5 --tau 20 35 --n_epochs 45  --random_cluster_pick_p 0.2

# Single-task baselines (no Shared task, no adversarial term: the Shared loader and the initial clustering are
# skipped entirely), e.g. on CUB200:
# npx mic-train --dataset cub200 --seed 0 --savename baseline_margin_cub200   --task_p 1 0 --adv_weights 0 --loss marginloss --tau 30 --n_epochs 50
# npx mic-train --dataset cub200 --seed 0 --savename baseline_triplet_cub200  --task_p 1 0 --adv_weights 0 --loss triplet --sampling semihard semihard --tau 30 --n_epochs 50
# npx mic-train --dataset cub200 --seed 0 --savename baseline_proxynca_cub200 --task_p 1 0 --adv_weights 0 --loss proxynca --tau 30 --n_epochs 50
