output "autoscaling_group_name" {
  value = aws_autoscaling_group.client.name
}

output "security_group_id" {
  value = aws_security_group.client.id
}
