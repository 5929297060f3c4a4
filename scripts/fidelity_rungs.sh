#!/usr/bin/env bash
# How well the main job's cheapest rung orders cells as its top rung does (README, "How far
# to trust a quick search"): each task's rung 0 against its top rung, as the default run
# spec's rungs set their knobs (archsearch.rungs), on the zoo panel with 4 mutants that
# scripts/fidelity_budgets.sh uses, one fixed setting for every cell. Resumable (one store).
#   scripts/fidelity_rungs.sh [arith] [xml] [ptb]     (default: arith xml)
set -euo pipefail
cd "$(dirname "$0")/.."
panel() { python -c "from archsearch.fidelity.panel import zoo_panel_words as w; print(w('$1'))"; }
STORE="${STORE:-sqlite:///results/fidelity.db}"
# the zoo panel and its fixed setting: archsearch/fidelity/panel.py
read -ra FIXED <<< "$(panel fixed)"
read -ra ZOO <<< "$(panel cells)"
MUTANTS="$(panel mutants)"

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
    archsearch fidelity "${ZOO[@]}" --mutants "$MUTANTS" --task "$task" --preset quick \
        $(knobs "$task" 0 --knob) $(knobs "$task" 1 --reference-knob) \
        --name "fidelity-$task-rung0" --out "results/fidelity/$task-rung0" --seeds 0,1 \
        --storage "$STORE" --workers "${WORKERS:-1}" "${FIXED[@]}"
done
