"""The link graph: resolved entities and events, and how records relate them (policy-filtered).

``build`` makes the graph one user may see; ``queries`` answers neighbours, paths,
communities and centrality over it and exports GraphML. See docs/resolve.md.
"""
