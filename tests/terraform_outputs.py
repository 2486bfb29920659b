"""Stand-in Terraform outputs: what `terraform output -raw NAME` answers scripts/deploy_pipeline.sh
for a deployed stack (project my-proj-123, private workers on a named subnetwork, no CMEK).
"""

FAKE_OUTPUTS = {
    "project_id": "my-proj-123",
    "region": "us-central1",
    "dataflow_job_name": "eventharbor-streaming",
    "dataflow_max_workers": "3",
    "ip_mode": "truncate",
    "subscriptions": "projects/my-proj-123/subscriptions/orders-dataflow,"
    "projects/my-proj-123/subscriptions/events-dataflow",
    "temp_location": "gs://my-proj-123-eventharbor-dataflow/temp",
    "staging_location": "gs://my-proj-123-eventharbor-dataflow/staging",
    "dataflow_service_account_email": "eventharbor-dataflow@my-proj-123.iam.gserviceaccount.com",
    "events_dataset": "events",
    "dead_letter_table": "dead_letter",
    "metrics_table": "realtime_event_metrics",
    "archive_root": "gs://my-proj-123-eventharbor-archive/raw",
    "dataflow_machine_type": "",
    "dataflow_subnetwork": "regions/us-central1/subnetworks/default",
    "dataflow_use_public_ips": "false",
    "kms_key_name": "",
    "ip_hash_key_secret": "",
}
