"""Connectors: where facts come from (report files, GitHub, GitLab) and where feedback goes."""
