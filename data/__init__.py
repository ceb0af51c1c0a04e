"""The sourced tables (models.csv), shipped as the package ``scaling_explorer.data``; see README.md here."""
