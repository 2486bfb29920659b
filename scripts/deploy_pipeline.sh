#!/usr/bin/env bash
# Submit the EventHarbor streaming pipeline to Dataflow, configured from the
# outputs of the Terraform stack in terraform/ (run `make deploy-infra` first).
# `make deploy-pipeline` runs this after making sure .venv exists.
#
# Environment overrides (each defaults to the Terraform output named after it):
#   PROJECT, REGION      project and Dataflow region
#   JOB_NAME             Dataflow job name (dataflow_job_name)
#   MAX_WORKERS          --max_num_workers (dataflow_max_workers)
#   IP_MODE              raw | truncate | hash (ip_mode); hash reads the key from the
#                        Secret Manager version ip_hash_key_secret (gcloud) unless
#                        EVENTHARBOR_IP_HASH_KEY is already set
#   UPDATE=1             replace the running job of the same name in place (--update)
#   DRY_RUN=1            print the command instead of running it
#   TF_DIR               Terraform directory (default: terraform)
#   EVENTHARBOR_PYTHON   interpreter (default: .venv/bin/python)
# Arguments are passed on to the pipeline, e.g.
#   ./scripts/deploy_pipeline.sh --window_size_s 120 --allowed_lateness_s 600
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TF_DIR="${TF_DIR:-terraform}"
PYTHON_BIN="${EVENTHARBOR_PYTHON:-.venv/bin/python}"

die() {
  echo "deploy_pipeline: $*" >&2
  exit 1
}

command -v terraform >/dev/null 2>&1 ||
  die "terraform is not on PATH; it is needed to read the outputs of ${TF_DIR}/ (install Terraform >= 1.9)."

# Prints one Terraform output; fails with a clear message when it is missing.
tf_output() {
  local name="$1" value
  if ! value="$(terraform -chdir="${TF_DIR}" output -raw "${name}" 2>/dev/null)"; then
    die "Terraform output '${name}' is missing. Run 'make deploy-infra' first (state lives in ${TF_DIR}/), then retry."
  fi
  printf '%s' "${value}"
}

if [[ -z "${PROJECT:-}" ]]; then PROJECT="$(tf_output project_id)"; fi
if [[ -z "${REGION:-}" ]]; then REGION="$(tf_output region)"; fi
if [[ -z "${JOB_NAME:-}" ]]; then JOB_NAME="$(tf_output dataflow_job_name)"; fi
if [[ -z "${MAX_WORKERS:-}" ]]; then MAX_WORKERS="$(tf_output dataflow_max_workers)"; fi
if [[ -z "${IP_MODE:-}" ]]; then IP_MODE="$(tf_output ip_mode)"; fi

subscriptions="$(tf_output subscriptions)"
temp_location="$(tf_output temp_location)"
staging_location="$(tf_output staging_location)"
service_account="$(tf_output dataflow_service_account_email)"
dataset="$(tf_output events_dataset)"
dead_letter_table="$(tf_output dead_letter_table)"
metrics_table="$(tf_output metrics_table)"
archive_root="$(tf_output archive_root)"
machine_type="$(tf_output dataflow_machine_type)"
subnetwork="$(tf_output dataflow_subnetwork)"
use_public_ips="$(tf_output dataflow_use_public_ips)"
kms_key="$(tf_output kms_key_name)"
ip_hash_key_secret="$(tf_output ip_hash_key_secret)"

[[ -n "${subscriptions}" ]] || die "Terraform output 'subscriptions' is empty: no Pub/Sub subscription to read."

args=(
  -m pipeline.main
  --runner DataflowRunner
  --project "${PROJECT}"
  --region "${REGION}"
  --job_name "${JOB_NAME}"
  --streaming
  --enable_streaming_engine
  --setup_file ./setup.py
  --temp_location "${temp_location}"
  --staging_location "${staging_location}"
  --service_account_email "${service_account}"
  --max_num_workers "${MAX_WORKERS}"
  --source pubsub
  --subscriptions "${subscriptions}"
  --dataset "${dataset}"
  --dead_letter_table "${dead_letter_table}"
  --metrics_table "${metrics_table}"
  --archive_root "${archive_root}"
  --ip_mode "${IP_MODE}"
)
if [[ -n "${machine_type}" ]]; then args+=(--worker_machine_type "${machine_type}"); fi
if [[ -n "${subnetwork}" ]]; then args+=(--subnetwork "${subnetwork}"); fi
if [[ "${use_public_ips}" == "false" ]]; then args+=(--no_use_public_ips); fi
if [[ -n "${kms_key}" ]]; then args+=(--dataflow_kms_key "${kms_key}"); fi
if [[ "${IP_MODE}" == "hash" && -z "${EVENTHARBOR_IP_HASH_KEY:-}" ]]; then
  # The pipeline reads the key from this variable while it builds the job, so
  # the key is not among the job's visible options.
  [[ -n "${ip_hash_key_secret}" ]] ||
    die "IP_MODE=hash needs EVENTHARBOR_IP_HASH_KEY or the Terraform variable ip_hash_key_secret_version."
  if [[ "${DRY_RUN:-0}" != "1" ]]; then
    command -v gcloud >/dev/null 2>&1 || die "gcloud is needed to read ${ip_hash_key_secret}."
    EVENTHARBOR_IP_HASH_KEY="$(gcloud secrets versions access "${ip_hash_key_secret}")" ||
      die "could not read the IP hash key from ${ip_hash_key_secret} (you need roles/secretmanager.secretAccessor on it)."
    export EVENTHARBOR_IP_HASH_KEY
  fi
fi
if [[ "${UPDATE:-0}" == "1" ]]; then args+=(--update); fi
args+=("$@")

if [[ "${DRY_RUN:-0}" == "1" ]]; then
  printf '%q ' "${PYTHON_BIN}" "${args[@]}"
  printf '\n'
  exit 0
fi

[[ -x "${PYTHON_BIN}" ]] || die "${PYTHON_BIN} not found; run 'make install' (make deploy-pipeline does it for you)."

echo "deploy_pipeline: submitting ${JOB_NAME} to Dataflow in ${PROJECT}/${REGION}" >&2
exec "${PYTHON_BIN}" "${args[@]}"
