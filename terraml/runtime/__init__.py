"""Runtime commands: train, deploy-model, status, stop-idle (cloud-neutral orchestration)."""
