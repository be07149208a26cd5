terraform {
  required_version = ">= 1.5.0"

  required_providers {
    nomad = {
      source  = "hashicorp/nomad"
      version = "2.3.1"
    }
    grafana = {
      source  = "grafana/grafana"
      version = "3.7.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "5.60.0"
    }
  }
}
