"""federation's models."""
