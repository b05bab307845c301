"""Interactive, offline network maps (pyvis / vis-network): geographic and force layouts."""

from visualisations.map import (
    HELIX_COLOURS,
    URBAN_RURAL_SHAPES,
    cap_edges,
    cap_network,
    render_network_map,
    render_network_payload,
)

__all__ = ["HELIX_COLOURS", "URBAN_RURAL_SHAPES", "cap_edges", "cap_network", "render_network_map",
           "render_network_payload"]
