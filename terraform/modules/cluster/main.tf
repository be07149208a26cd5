# An example of Nomad client nodes for Crucible on AWS: an autoscaling group whose instances
# install, through cloud-init, Docker with user-namespace remapping, gVisor (runsc), Node.js, the
# Crucible release, and the Nomad agent with the plugins Crucible's jobs need.

resource "aws_security_group" "client" {
  name_prefix = "${var.name}-nomad-client-"
  vpc_id      = var.vpc_id

  # Nomad servers talk to clients (RPC, HTTP for logs and exec); nothing else comes in.
  ingress {
    from_port   = 4646
    to_port     = 4647
    protocol    = "tcp"
    cidr_blocks = [var.nomad_server_cidr]
  }

  # Agents reach Redis, Nomad servers, and package mirrors; sandboxes get no network at all
  # (Docker network "none", set per container by the agent).
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_launch_template" "client" {
  name_prefix   = "${var.name}-nomad-client-"
  image_id      = var.ami_id
  instance_type = var.instance_type

  vpc_security_group_ids = [aws_security_group.client.id]

  metadata_options {
    # IMDSv2 only, one hop: a container on the node cannot read the instance's credentials.
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size = 40
      encrypted   = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/cloud-init.yaml.tftpl", {
    datacenter            = var.datacenter
    nomad_version         = var.nomad_version
    nomad_servers         = jsonencode(var.nomad_servers)
    crucible_release_url  = var.crucible_release_url
    nomad_ca_pem          = var.nomad_ca_pem
    nomad_client_cert_pem = var.nomad_client_cert_pem
    nomad_client_key_pem  = var.nomad_client_key_pem
  }))
}

resource "aws_autoscaling_group" "client" {
  name_prefix         = "${var.name}-nomad-client-"
  min_size            = var.min_nodes
  max_size            = var.max_nodes
  vpc_zone_identifier = var.subnet_ids

  launch_template {
    id      = aws_launch_template.client.id
    version = "$Latest"
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-nomad-client"
    propagate_at_launch = true
  }
}
