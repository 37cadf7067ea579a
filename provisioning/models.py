"""provisioning's models."""
