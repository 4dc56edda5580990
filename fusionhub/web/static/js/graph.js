// Link chart island: Cytoscape.js (served from node_modules) over the REST API's
// policy-filtered graph. Expand a node by clicking it (or its button in the entity
// list), filter by relationship type and time, find the shortest path between two
// entities, export the chart as PNG or the same neighbourhood as GraphML.
(function () {
  "use strict";
  const box = document.getElementById("chart");
  if (!box || !window.cytoscape) return;
  const api = box.dataset.api;
  const center = box.dataset.center;
  const start = JSON.parse(box.dataset.start || "{}");
  const status = document.getElementById("chart-status");
  const list = document.getElementById("chart-nodes");
  const selected = document.getElementById("selected");
  const filterForm = document.getElementById("chart-filters");
  const pathForm = document.getElementById("chart-path");
  const pathResult = document.getElementById("path-result");
  const graphmlLink = document.getElementById("export-graphml");
  const depth = Math.max(1, Object.values(start.depth || {}).reduce(function (a, b) { return Math.max(a, b); }, 1));

  // The same colours as the legend (app.css .sw-*); shapes tell the types apart without colour.
  const TYPES = {
    Person: ["#0b5cad", "ellipse"],
    Organization: ["#6639ba", "hexagon"],
    Vehicle: ["#0f7b8a", "diamond"],
    Phone: ["#1a7f37", "round-triangle"],
    Address: ["#bc4c00", "round-tag"],
    Incident: ["#a40e26", "round-rectangle"],
    Event: ["#d1242f", "round-rectangle"],
    other: ["#57606a", "ellipse"],
  };
  const GROUP = {
    Location: "Address",
    Arrest: "Event",
    SuspiciousActivityReport: "Event",
    Tip: "Event",
    LicensePlateRead: "Event",
  };
  const EVENTS = ["Incident", "Event"];

  function group(schema) {
    if (TYPES[schema]) return schema;
    return GROUP[schema] || "other";
  }

  function nodeElement(n) {
    const g = group(n.schema);
    const event = EVENTS.indexOf(g) >= 0;
    return {
      group: "nodes",
      data: {
        id: n.id,
        label: event ? (n.schema + " " + (n.label || "")) : (n.label || n.id),
        name: n.label || n.id,
        schema: n.schema || "",
        records: n.records || 0,
        date: n.date || "",
        colour: TYPES[g][0],
        shape: TYPES[g][1],
        event: event,
      },
    };
  }

  function edgeKey(e) {
    const ends = [e.source, e.target].sort();
    return ends[0] + "|" + ends[1] + "|" + e.kind;
  }

  const cy = window.cytoscape({
    container: box,
    elements: [],
    minZoom: 0.2,
    maxZoom: 3,
    wheelSensitivity: 0.3,
    style: [
      {
        selector: "node",
        style: {
          "background-color": "data(colour)",
          shape: "data(shape)",
          width: 30,
          height: 30,
          label: "data(label)",
          "font-size": 14,
          "font-family": "system-ui, sans-serif",
          color: "#1b1f24",
          "text-valign": "bottom",
          "text-margin-y": 4,
          "text-wrap": "ellipsis",
          "text-max-width": "130px",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
          "text-background-padding": "2px",
          "border-width": 2,
          "border-color": "#ffffff",
        },
      },
      { selector: "node[?event]", style: { width: 24, height: 24 } },
      { selector: "node.center", style: { width: 44, height: 44, "border-width": 4, "border-color": "#f0b400", "font-weight": "bold" } },
      { selector: "node.expanded", style: { "border-color": "#1b1f24" } },
      { selector: "node:selected", style: { "border-color": "#f0b400", "border-width": 4, "overlay-opacity": 0 } },
      {
        selector: "edge",
        style: {
          width: "mapData(count, 1, 6, 1.5, 6)",
          "line-color": "#8c959f",
          "curve-style": "bezier",
          label: "data(label)",
          "font-size": 10,
          color: "#57606a",
          "text-rotation": "autorotate",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.8,
          "min-zoomed-font-size": 7,
        },
      },
      { selector: "edge[kind ^= 'shared']", style: { "line-style": "dashed", "line-color": "#bc4c00" } },
      { selector: "edge[kind = 'co-arrest'], edge[kind = 'associate']", style: { "line-color": "#a40e26" } },
      { selector: ".path", style: { "line-color": "#f0b400", "border-color": "#f0b400", "border-width": 4, width: 6, "z-index": 10 } },
    ],
  });

  // The chart's instance on its element (not a global), for the browser tests and the console.
  box.cy = cy;

  function say(text) { status.textContent = text; }

  function filters() {
    const params = new URLSearchParams();
    if (!filterForm) return params;
    filterForm.querySelectorAll("input[name=relationship]:checked").forEach(function (c) { params.append("relationship", c.value); });
    ["from", "to"].forEach(function (name) {
      const v = filterForm.elements[name].value;
      if (v) params.set(name, v);
    });
    return params;
  }

  function add(body, near) {
    const fresh = [];
    (body.nodes || []).forEach(function (n) {
      if (cy.getElementById(n.id).nonempty()) return;
      const element = nodeElement(n);
      if (near) {
        const p = near.position();
        element.position = { x: p.x + (Math.random() - 0.5) * 120, y: p.y + (Math.random() - 0.5) * 120 };
      }
      fresh.push(element);
    });
    cy.add(fresh);
    const edges = [];
    (body.edges || []).forEach(function (e) {
      const id = edgeKey(e);
      const existing = cy.getElementById(id);
      if (existing.nonempty()) {
        const records = existing.data("records");
        if (records.indexOf(e.record_id) < 0) {
          records.push(e.record_id);
          existing.data({ count: records.length, label: e.kind + (records.length > 1 ? " ×" + records.length : "") });
        }
        return;
      }
      edges.push({ group: "edges", data: { id: id, source: e.source, target: e.target, kind: e.kind, records: [e.record_id], count: 1, label: e.kind } });
    });
    cy.add(edges);
    return fresh.length;
  }

  function layout(randomize) {
    cy.layout({
      name: "cose",
      animate: false,
      randomize: randomize,
      fit: true,
      padding: 30,
      // Room for the labels: strong repulsion, long edges, weak gravity.
      nodeRepulsion: function () { return 120000; },
      idealEdgeLength: function () { return 80; },
      nodeOverlap: 20,
      gravity: 0.3,
      numIter: 2000,
      componentSpacing: 80,
    }).run();
  }

  function refreshList() {
    const nodes = cy.nodes().sort(function (a, b) { return a.data("name").localeCompare(b.data("name")); });
    box.dataset.nodes = String(nodes.length);
    box.dataset.edges = String(cy.edges().length);
    document.querySelectorAll("[data-testid=node-count]").forEach(function (el) { el.textContent = String(nodes.length); });
    list.replaceChildren();
    ["path-a", "path-b"].forEach(function (id) {
      const select = document.getElementById(id);
      const keep = select.value;
      select.replaceChildren();
      nodes.forEach(function (n) {
        if (n.data("event")) return;
        const option = document.createElement("option");
        option.value = n.id();
        option.textContent = n.data("label");
        select.appendChild(option);
      });
      if (keep && cy.getElementById(keep).nonempty()) select.value = keep;
      else if (id === "path-a") select.value = center;
    });
    nodes.forEach(function (n) {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch sw-" + group(n.data("schema"));
      swatch.setAttribute("aria-hidden", "true");
      li.appendChild(swatch);
      if (!n.data("event")) {
        const a = document.createElement("a");
        a.href = "/entities/" + encodeURIComponent(n.id());
        a.textContent = n.data("label");
        li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(n.data("label")));
      }
      li.appendChild(document.createTextNode(" " + n.data("schema") + ", " + n.data("records") + " record(s) "));
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.textContent = n.hasClass("expanded") ? "Expanded" : "Expand";
      button.disabled = n.hasClass("expanded");
      button.setAttribute("aria-label", button.textContent + " " + n.data("label"));
      button.addEventListener("click", function () { expand(n); });
      li.appendChild(button);
      list.appendChild(li);
    });
  }

  function fetchJson(path, params) {
    return fetch(api + path + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error((body.error && body.error.message) || ("HTTP " + r.status));
          return body;
        });
      });
  }

  function expand(node) {
    const params = filters();
    params.set("entity", node.id());
    params.set("depth", "1");
    say("Expanding " + node.data("label") + " …");
    return fetchJson("/neighbours", params).then(function (body) {
      node.addClass("expanded");
      const added = add(body, node);
      layout(false);
      refreshList();
      say(node.data("label") + ": " + added + " new entit" + (added === 1 ? "y" : "ies") + " (" + cy.nodes().length + " in the chart)");
    }).catch(function (err) { say("Could not expand: " + err.message); });
  }

  function show(node) {
    selected.replaceChildren();
    const p = document.createElement("p");
    p.appendChild(document.createTextNode("Selected: " + node.data("label") + " (" + node.data("schema") + ", " + node.data("records") + " record(s)" + (node.data("date") ? ", " + node.data("date").slice(0, 10) : "") + ") "));
    if (!node.data("event")) {
      const a = document.createElement("a");
      a.href = "/entities/" + encodeURIComponent(node.id());
      a.textContent = "Open the fused profile";
      p.appendChild(a);
    }
    selected.appendChild(p);
    document.getElementById("path-b").value = node.id();
  }

  function load() {
    const params = filters();
    params.set("entity", center);
    params.set("depth", String(depth));
    const href = new URL(graphmlLink.href, window.location.href);
    href.search = params.toString();
    graphmlLink.href = href.pathname + href.search;
    return fetchJson("/neighbours", params).then(function (body) {
      cy.elements().remove();
      add(body, null);
      cy.getElementById(center).addClass("center expanded");
      layout(true);
      refreshList();
      const kinds = params.getAll("relationship");
      say(cy.nodes().length + " entities and events" + (kinds.length ? " tied by " + kinds.join(", ") : ""));
    }).catch(function (err) { say("Could not apply the filters: " + err.message); });
  }

  cy.on("tap", "node", function (evt) {
    show(evt.target);
    if (!evt.target.hasClass("expanded")) expand(evt.target);
  });

  if (filterForm) {
    filterForm.addEventListener("submit", function (event) {
      event.preventDefault();
      pathResult.textContent = "";
      load();
    });
  }

  pathForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const params = filters();
    const a = pathForm.elements.a.value;
    const b = pathForm.elements.b.value;
    params.set("a", a);
    params.set("b", b);
    cy.elements().removeClass("path");
    fetchJson("/path", params).then(function (body) {
      if (!body.found) {
        pathResult.textContent = "No chain of ties between them in the records you may read.";
        return;
      }
      if (add(body, cy.getElementById(a))) layout(false);
      const ids = body.nodes.map(function (n) { return n.id; });
      ids.forEach(function (id, i) {
        cy.getElementById(id).addClass("path");
        if (i > 0) {
          cy.edges().filter(function (e) {
            const s = e.data("source"), t = e.data("target");
            return (s === ids[i - 1] && t === id) || (t === ids[i - 1] && s === id);
          }).addClass("path");
        }
      });
      refreshList();
      pathResult.textContent = body.length + " step" + (body.length === 1 ? "" : "s") + ": " + body.nodes.map(function (n) { return n.label; }).join(" → ");
    }).catch(function (err) { pathResult.textContent = "Could not find a path: " + err.message; });
  });

  document.getElementById("export-png").addEventListener("click", function () {
    const blob = cy.png({ output: "blob", bg: "#ffffff", full: true, scale: 2 });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = "link-chart-" + center + ".png";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });

  // First draw from the neighbourhood the page was rendered with (no extra request).
  add(start, null);
  cy.getElementById(center).addClass("center expanded");
  layout(true);
  refreshList();
  box.dataset.ready = "true";
  say(cy.nodes().length + " entities and events around the centre");
})();
