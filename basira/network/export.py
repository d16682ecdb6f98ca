"""Export the analysed graph to GEXF 1.3 and GraphML for Gephi (streamed: fine for millions of edges)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING
from xml.sax.saxutils import quoteattr

import numpy as np

from basira.core.jsonio import atomic_output

if TYPE_CHECKING:
    from basira.network.analysis import NetworkAnalysis

_NODE_ATTRS = (("handle", "string"), ("platform", "string"), ("external_id", "string"), ("status", "string"),
               ("community", "integer"), ("risk", "double"), ("pagerank", "double"), ("betweenness", "double"),
               ("flagged_posts", "integer"), ("account_id", "integer"))


def _node_values(a: NetworkAnalysis, i: int) -> tuple:
    acc = a.data.accounts[i]
    return (acc.handle or "", acc.platform, acc.external_id, acc.status, int(a.communities.membership[i]),
            round(float(a.risk.score[i]), 6), float(a.pagerank[i]), round(float(a.betweenness[i]), 4),
            int(a.data.stats.flagged_originals[i]), acc.id)


# Characters XML 1.0 forbids even when escaped: a hostile handle must not make the file unreadable.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _fmt(v: object) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", str(v)))


def _subset(a: NetworkAnalysis, nodes: Sequence[int] | np.ndarray | None) -> tuple[list[int], np.ndarray]:
    """The nodes to write (all by default) and the mask of the graph's edges between them."""
    g = a.graph
    if nodes is None:
        return list(range(a.data.n)), np.ones(g.n_edges, bool)
    keep = np.zeros(a.data.n, bool)
    keep[np.asarray(nodes, np.int64)] = True
    return np.nonzero(keep)[0].tolist(), keep[g.src] & keep[g.dst]


def write_gexf(a: NetworkAnalysis, path: str) -> None:
    """A directed, weighted GEXF file with account attributes (community, risk, PageRank, ...)."""
    with atomic_output(path) as fh:
        write_gexf_to(a, fh)


def write_gexf_to(a: NetworkAnalysis, fh: IO[bytes], nodes: Sequence[int] | np.ndarray | None = None) -> None:
    """GEXF to an open binary file; `nodes` restricts it to those accounts and the edges among them."""
    keep, mask = _subset(a, nodes)
    w = fh.write
    w(b'<?xml version="1.0" encoding="UTF-8"?>\n'
      b'<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
      b'<meta><creator>basira</creator><description>interaction network</description></meta>\n'
      b'<graph defaultedgetype="directed" mode="static">\n<attributes class="node">\n')
    for k, (name, typ) in enumerate(_NODE_ATTRS):
        w(f'<attribute id="{k}" title="{name}" type="{typ}"/>\n'.encode())
    w(b"</attributes>\n<nodes>\n")
    for i in keep:
        acc = a.data.accounts[i]
        vals = "".join(f"<attvalue for=\"{k}\" value={_fmt(v)}/>" for k, v in enumerate(_node_values(a, i)))
        w(f'<node id="{i}" label={_fmt(acc.label)}><attvalues>{vals}</attvalues></node>\n'.encode())
    w(b"</nodes>\n<edges>\n")
    g = a.graph
    src, dst, weight = g.src[mask].tolist(), g.dst[mask].tolist(), g.weight[mask].tolist()
    for k, (s, d, wt) in enumerate(zip(src, dst, weight, strict=True)):
        w(f'<edge id="{k}" source="{s}" target="{d}" weight="{wt:g}"/>\n'.encode())
    w(b"</edges>\n</graph>\n</gexf>\n")


def write_graphml(a: NetworkAnalysis, path: str) -> None:
    """A directed, weighted GraphML file with the same attributes."""
    with atomic_output(path) as fh:
        write_graphml_to(a, fh)


def write_graphml_to(a: NetworkAnalysis, fh: IO[bytes], nodes: Sequence[int] | np.ndarray | None = None) -> None:
    """GraphML to an open binary file; `nodes` restricts it like write_gexf_to."""
    keep, mask = _subset(a, nodes)
    w = fh.write
    types = {"string": "string", "integer": "long", "double": "double"}
    w(b'<?xml version="1.0" encoding="UTF-8"?>\n'
      b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for k, (name, typ) in enumerate(_NODE_ATTRS):
        w(f'<key id="v{k}" for="node" attr.name="{name}" attr.type="{types[typ]}"/>\n'.encode())
    w(b'<key id="weight" for="edge" attr.name="weight" attr.type="double"/>\n<graph edgedefault="directed">\n')
    for i in keep:
        vals = "".join(f"<data key=\"v{k}\">{_text(v)}</data>" for k, v in enumerate(_node_values(a, i)))
        w(f'<node id="n{i}">{vals}</node>\n'.encode())
    g = a.graph
    for s, d, wt in zip(g.src[mask].tolist(), g.dst[mask].tolist(), g.weight[mask].tolist(), strict=True):
        w(f'<edge source="n{s}" target="n{d}"><data key="weight">{wt:g}</data></edge>\n'.encode())
    w(b"</graph>\n</graphml>\n")


def _text(v: object) -> str:
    from xml.sax.saxutils import escape

    return escape(_NOT_XML.sub("\ufffd", str(v)))
