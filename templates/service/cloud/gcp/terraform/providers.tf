provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge(var.labels, {
    service     = var.name
    environment = var.environment
    managed-by  = "terraform"
  })
}
