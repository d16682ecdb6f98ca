"""The network: interactions → communities, key actors, coordinated sharing, returning accounts (pure
graph algorithms), loaded from the store and opened as cases through `basira.cases`."""

from basira.core.faces import lazy_face

# name -> the module it lives in; loaded on first use (basira.core.faces says why)
_FACE = {
    "NetworkAnalysis": "analysis",
    "analyze": "analysis",
    "build": "analysis",
    "community_summaries": "analysis",
    "coordinated_groups": "analysis",
    "key_actors": "analysis",
    "returning_accounts": "analysis",
    "cache_for": "cache",
    "community_case_details": "cases",
    "network_priority": "cases",
    "find_coordinated_groups": "coordinated",
    "NetworkData": "data",
    "build_network_data": "data",
    "write_gexf": "export",
    "write_graphml": "export",
    "load_network_data": "load",
    "find_returning": "returning",
}
__all__, __getattr__, __dir__ = lazy_face(__name__, _FACE)
