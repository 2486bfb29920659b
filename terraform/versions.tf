# Terraform and provider versions for the EventHarbor infrastructure.
#
# google-beta is needed only for the two resources that are still beta:
# google_project_service_identity (creates the Pub/Sub and BigQuery Data
# Transfer service agents) and google_dataflow_flex_template_job (off by default).
terraform {
  # >= 1.9: variable validations refer to other variables.
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.10"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 7.10"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
