"""The spec language: a YAML document to a validated Spec, its schema, expectations and the shipped names."""
