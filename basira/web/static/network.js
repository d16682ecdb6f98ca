// Basira network graphs: draws the JSON data block with cytoscape.js when the library is present; otherwise
// the tables under the graph are the view. The drawn graph is exposed as window.basiraGraph and its size as
// data-nodes on the canvas (for tests and for assistive checks).
(function () {
  "use strict";
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];
  const EDGE = { repost: "#b5523b", forward: "#b5523b", quote: "#c98a3c", mention: "#5b7fa6", reply: "#5b7fa6",
    follow: "#b8b5ad", co_url: "#7a5aa6", co_content: "#7a5aa6", co_thread: "#7a5aa6" };

  // Risk on a colour-blind-safe sequential scale (viridis: pale yellow = low, dark purple = high), readable in
  // greyscale too; the old green→red scale was invisible to the most common colour blindness.
  const VIRIDIS = [[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]];
  function riskColour(r) {
    const x = Math.max(0, Math.min(1, r)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
    const t = x - i;
    const c = VIRIDIS[i].map((v, k) => Math.round(v + (VIRIDIS[i + 1][k] - v) * t));
    return "rgb(" + c.join(",") + ")";
  }
  const LABELS = 15;  // only the riskiest nodes (and the centre) are labelled: 150 labels overlap into noise

  function draw(box) {
    const block = document.getElementById(box.dataset.graph);
    const canvas = box.querySelector(".graph-canvas");
    const note = box.querySelector(".graph-note");
    let data;
    try { data = JSON.parse(block.textContent); } catch (e) { data = null; }
    if (!data || typeof window.cytoscape !== "function") {  // the library did not load: the tables are the view
      if (note) note.hidden = false;
      canvas.hidden = true;
      const tables = box.parentElement.querySelector(".graph-table");
      if (tables) tables.open = true;
      return;
    }
    const center = data.center;
    const elements = [];
    const ranked = data.nodes.map((n) => n.risk).sort((a, b) => b - a);
    const cut = ranked.length > LABELS ? ranked[LABELS - 1] : -1;
    let labelled = 0;
    data.nodes.forEach((n) => elements.push({ group: "nodes", data: {
      id: String(n.id), label: (n.id === center || (n.risk >= cut && labelled++ < LABELS)) ? n.label : "",
      fullLabel: n.label, href: n.href, risk: n.risk, community: n.community,
      size: 14 + 26 * Math.sqrt(Math.min(1, n.risk)), center: n.id === center ? 1 : 0 } }));
    const maxW = data.edges.reduce((m, e) => Math.max(m, e.weight), 1);
    data.edges.forEach((e, i) => elements.push({ group: "edges", data: {
      id: "e" + i, source: String(e.source), target: String(e.target), kind: e.kind,
      width: 0.6 + 5 * Math.sqrt(e.weight / maxW), colour: EDGE[e.kind] || "#999" } }));
    const cy = window.cytoscape({
      container: canvas, elements: elements, minZoom: 0.1, maxZoom: 2,
      layout: { name: data.nodes.length > 1 ? "cose" : "grid", animate: false, randomize: false, nodeRepulsion: 9000,
        idealEdgeLength: 60, numIter: 600 },
      style: [
        { selector: "node", style: { "background-color": (n) => riskColour(n.data("risk")), width: "data(size)",
          height: "data(size)", label: "data(label)", "font-size": 9, color: "#1f2328", "text-valign": "bottom",
          "text-margin-y": 2, "text-max-width": 120, "text-wrap": "ellipsis", "min-zoomed-font-size": 7 } },
        { selector: "node[center = 1]", style: { "border-width": 3, "border-color": "#233040" } },
        { selector: "edge", style: { width: "data(width)", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
          "target-arrow-shape": "triangle", "arrow-scale": 0.6, "curve-style": "haystack", opacity: 0.55 } },
        { selector: "edge[kind = 'follow']", style: { "line-style": "dashed" } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#000" } },
      ],
    });
    cy.on("tap", "node", (ev) => { const href = ev.target.data("href"); if (href) window.location.assign(href); });
    cy.on("mouseover", "node", (ev) => ev.target.style("label", ev.target.data("fullLabel")));  // any name on hover
    cy.on("mouseout", "node", (ev) => ev.target.removeStyle("label"));
    const select = box.querySelector(".graph-colour");
    if (select) {
      select.addEventListener("change", () => {
        const byCommunity = select.value === "community";
        cy.nodes().forEach((n) => n.style("background-color", byCommunity
          ? PALETTE[n.data("community") % PALETTE.length] : riskColour(n.data("risk"))));
      });
    }
    canvas.dataset.nodes = String(cy.nodes().length);
    canvas.dataset.edges = String(cy.edges().length);
    canvas.classList.add("drawn");
    window.basiraGraph = cy;
  }

  function init() { document.querySelectorAll(".graph-box[data-graph]").forEach(draw); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
