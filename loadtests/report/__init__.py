"""The report document and its renderers: HTML, Markdown, charts, terminal."""
