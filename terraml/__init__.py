"""terraml: ML platforms from one YAML file per environment."""

__version__ = "0.1.0"
