provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Service     = var.name
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
