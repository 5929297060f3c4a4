#!/usr/bin/env bash
# How well the main job's cheapest rung orders cells as its top rung does (README, "How far
# to trust a quick search"): each task's rung 0 against its top rung, as the default run
# spec's rungs set their knobs (archsearch.rungs), on the zoo panel with 4 mutants that
# scripts/fidelity_budgets.sh uses, one fixed setting for every cell. Resumable (one store).
#   scripts/fidelity_rungs.sh [arith] [xml] [ptb]     (default: arith xml)
set -euo pipefail
cd "$(dirname "$0")/.."
STORE="${STORE:-sqlite:///results/fidelity.db}"
FIXED=(--set lr=0.003 --set init_scale=1 --set layers=1 --set max_grad_norm=5)
ZOO=(tanh lstm lstm_f lstm_i lstm_o lstm_b gru mut1 mut2 mut3 greff_nig greff_nfg)

knobs() {  # the --knob (or --reference-knob) options of one rung of the default spec
    python - "$1" "$2" "$3" <<'PY'
import sys
from archsearch.spec import RunSpec
task, rung, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for name, value in RunSpec().rung_plan.knobs(task, "quick", {}, rung).items():
    print(f"{flag} {name}={value}")
PY
}

tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(arith xml)
for task in "${tasks[@]}"; do
    # shellcheck disable=SC2046
    archsearch fidelity "${ZOO[@]}" --mutants 4 --task "$task" --preset quick \
        $(knobs "$task" 0 --knob) $(knobs "$task" 1 --reference-knob) \
        --name "fidelity-$task-rung0" --out "results/fidelity/$task-rung0" --seeds 0,1 \
        --storage "$STORE" --workers "${WORKERS:-1}" "${FIXED[@]}"
done
