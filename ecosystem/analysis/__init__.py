"""Pure graph algorithms over networkx/igraph graphs: projections, metrics, clusters, synergy, scoring.
No store imports: what they need arrives as graphs and records."""
