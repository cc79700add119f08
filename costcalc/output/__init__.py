"""Writers: tables, JSON, CSV, markdown, JUnit, GitHub, dot, mermaid and plots, from plain data."""
