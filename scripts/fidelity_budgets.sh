#!/usr/bin/env bash
# Measure the fidelity of the budgets `archsearch search` uses by default (the quick preset):
# results/fidelity/<task>-quick/. Every evaluation lands in one store, so the same command
# resumes after a crash and trains nothing twice. CPU-hours on 2 cores; run it with nohup.
#   scripts/fidelity_budgets.sh [ptb] [arith] [xml]     (default: all three)
# REF_SEEDS=0,1 repeats the 4x reference of arith and xml (each cell's reference is the mean,
# and the report says how well the reference agrees with itself); SUFFIX names the runs apart.
set -euo pipefail
cd "$(dirname "$0")/.."
panel() { python -c "from archsearch.fidelity.panel import zoo_panel_words as w; print(w('$1'))"; }
STORE="${STORE:-sqlite:///results/fidelity.db}"
LOGS="${LOGS:-../shared/data/nasbench-nlp-wt2/logs.jsonl}"
# One fixed setting for every cell, so the budget alone is under test; the zoo panel and that
# setting: archsearch/fidelity/panel.py (LR overrides its learning rate)
read -ra FIXED <<< "$(panel fixed)"
[ -z "${LR:-}" ] || FIXED+=(--set "lr=$LR")
COMMON=(--preset quick --seeds 0,1 --storage "$STORE" --workers "${WORKERS:-2}" "${FIXED[@]}")
read -ra ZOO <<< "$(panel cells)"
MUTANTS="$(panel mutants)"

tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(ptb arith xml)
for task in "${tasks[@]}"; do
    if [ "$task" = ptb ]; then
        # Against NAS-Bench-NLP's final WikiText-2 perplexities: 24 architectures across the range.
        # (The runs are named for the budget with its divergence retry: the older runs named
        # fidelity-ptb-quick in a store predate it and made results/fidelity/ptb-quick-noretry.)
        archsearch fidelity "$LOGS" --size 24 --task ptb --name "fidelity-ptb-quick-retry${SUFFIX:-}" \
            --out "results/fidelity/ptb-quick${SUFFIX:-}" "${COMMON[@]}"
        # The budget was chosen on that panel: check it on the 24 cells it leaves out (seed 0).
        archsearch fidelity "$LOGS" --held-out --size 24 --task ptb \
            --name "fidelity-ptb-quick-heldout${SUFFIX:-}" \
            --out "results/fidelity/ptb-quick-heldout${SUFFIX:-}" "${COMMON[@]}" --seeds 0
    else
        # Against a 4x longer budget trained here: 12 zoo cells and 4 mutants.
        steps=$(python -c "import tasks; print(tasks.get('$task', preset='quick').config.train_steps)")
        REFERENCE=(--reference-knob "train_steps=$((4 * steps))")
        [ -z "${REF_SEEDS:-}" ] || REFERENCE+=(--reference-seeds "$REF_SEEDS")
        archsearch fidelity "${ZOO[@]}" --mutants "$MUTANTS" --task "$task" \
            --name "fidelity-$task-quick${SUFFIX:-}" --out "results/fidelity/$task-quick${SUFFIX:-}" \
            "${REFERENCE[@]}" "${COMMON[@]}"
    fi
done
