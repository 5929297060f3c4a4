#!/usr/bin/env bash
# Submit a paper-scale search to the Ray cluster of cluster.yaml.
#
#   ARCHSEARCH_DB='postgresql+psycopg://archsearch:SECRET@10.0.0.10/archsearch' \
#       scripts/cluster/submit.sh paper-run
#
# Run it on the head node (or through `ray dashboard scripts/cluster/cluster.yaml`, which
# forwards the dashboard port to this machine). The store is PostgreSQL on the head;
# the same command resumes the run after a crash.
set -euo pipefail
NAME="${1:-paper-run}"
: "${ARCHSEARCH_DB:?set ARCHSEARCH_DB to the PostgreSQL URL of the store}"
ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
    archsearch search --address auto --storage "$ARCHSEARCH_DB" --name "$NAME" \
    --preset paper --trials 4 --gpus-per-eval 0.5 --cpus-per-eval 2 \
    --time-limit 21600 --budget 72h
