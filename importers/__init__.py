"""One module per source: each turns a source's own format into domain records with provenance."""
