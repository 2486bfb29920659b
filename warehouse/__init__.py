"""The scheduled models: SQL rendering and the model runner, used locally and by Terraform."""
