"use strict";
// Steps through the forward pass, then the backward pass edge by edge, from the JSON autodiff wrote into this
// page. Every text the user typed is shown with textContent, never parsed as HTML.
(function () {
  const data = JSON.parse(document.getElementById("explanation").textContent);
  const nodes = data.nodes;
  const edges = data.backward;
  const F = nodes.length;
  const B = edges.length;
  // the steps: 0 nothing computed; 1..F the forward pass, a node each; F + 1 the output's gradient is 1;
  // F + 1 + j the backward pass's edge j (1..B)
  const LAST = F + 1 + B;
  const SVGNS = "http://www.w3.org/2000/svg";
  let step = 0;
  let timer = null;
  let selected = null;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function cut(text) {
    return text.length <= 24 ? text : text.slice(0, 23) + "\u2026";
  }
  function formula(i) {  // "#1 = x * x", "#2 = tanh(#1)", "x (variable)"
    const n = nodes[i];
    if (n.op === "var") return n.label + " (a variable)";
    if (n.op === "const") return n.label + " (a constant)";
    const args = n.inputs.map((p) => nodes[p].label);
    const body = args.length === 2 && n.symbol !== n.op
      ? args[0] + " " + n.symbol + " " + args[1] : n.symbol + "(" + args.join(", ") + ")";
    return n.label + " = " + body;
  }
  const consumers = nodes.map(() => []);
  nodes.forEach((n, i) => n.inputs.forEach((p, a) => consumers[p].push([i, a])));

  // -- the page's frame ------------------------------------------------------------------------
  const body = document.body;
  const header = el("header");
  const h1 = el("h1", data.title);
  h1.title = data.expression;  // a long expression is cut to three lines: the whole of it on hover
  header.append(h1);
  const summary = el("p", null);
  summary.id = "summary";
  summary.append("Value " + data.value);
  if (data.gradient.length) {
    const shown = data.gradient.slice(0, 6).map(([name, g]) => "\u2202/\u2202" + name + " = " + g);
    if (data.gradient.length > 6) shown.push("\u2026 (" + data.gradient.length + " in all: each in its variable's inspector)");
    summary.append("; gradient " + shown.join(", "));
  }
  summary.append(". " + F + " nodes, " + B + " backward edges.");
  header.append(summary);
  body.append(header);
  const main = el("main");
  body.append(main);

  const area = el("section");
  area.id = "graph-area";
  area.setAttribute("aria-label", "The computation graph, output at the top, inputs at the bottom");
  const graph = el("div");
  graph.id = "graph";
  const graphNote = el("p", data.note || null, "note");
  graphNote.id = "graph-note";
  area.append(graph, graphNote);
  main.append(area);

  const aside = el("aside");
  main.append(aside);
  const controls = el("section");
  controls.id = "controls";
  controls.setAttribute("aria-label", "Step controls");
  function button(id, text, title, action) {
    const b = el("button", text);
    b.id = id;
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", action);
    controls.append(b);
    return b;
  }
  const first = button("first", "|\u25c0", "Back to the start (Home)", () => { stop(); show(0); });
  const prev = button("prev", "\u25c0", "Step back (left arrow)", () => { stop(); show(step - 1); });
  const play = button("play", "\u25b6 play", "Play or pause (space)", toggle);
  const next = button("next", "\u25b6", "Step forward (right arrow)", () => { stop(); show(step + 1); });
  const last = button("last", "\u25b6|", "Jump to the end (End)", () => { stop(); show(LAST); });
  const position = el("span", null, "mono");
  position.id = "position";
  controls.append(position);
  const keys = el("p", "Keys: \u2190 \u2192 step, space play/pause, Home/End start/end; Tab to a node, " +
    "Enter to inspect it.", "keys");
  controls.append(keys);
  aside.append(controls);

  const panel = el("section");
  panel.id = "step";
  panel.setAttribute("aria-live", "polite");
  const stepTitle = el("h2");
  stepTitle.id = "step-title";
  const stepBody = el("div");
  stepBody.id = "step-body";
  panel.append(stepTitle, stepBody);
  aside.append(panel);

  const inspector = el("section");
  inspector.id = "inspector";
  inspector.setAttribute("aria-label", "Node inspector");
  aside.append(inspector);

  const footer = el("footer");
  footer.append("Written by autodiff explain" + (data.file ? " as " + data.file : "") + ". " +
    (data.drawing ? "Laid out by " + data.drawing.layout + ". " : "") +
    "Gradients flow down the edges: each backward step adds upstream \u00d7 local to the input's gradient.");
  body.append(footer);

  // -- the drawing -------------------------------------------------------------------------------
  const shapes = [];
  const lines = {};
  if (data.drawing) {
    const d = data.drawing;
    const picture = svg("svg", {
      width: d.width, height: d.height, viewBox: "0 0 " + d.width + " " + d.height, role: "group",
      "aria-label": "Computation graph",
    });
    const defs = svg("defs", {});
    const marker = svg("marker", {
      id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8",
      markerUnits: "userSpaceOnUse", orient: "auto",
    });
    marker.append(svg("path", { d: "M0,1 L9,5 L0,9 z", class: "arrow" }));
    defs.append(marker);
    picture.append(defs);
    const edgeLayer = svg("g", {});
    for (const [node, arg, path] of d.edges) {
      const p = svg("path", { d: path, class: "edge", "marker-end": "url(#arrow)" });
      const t = svg("title", {});
      t.textContent = nodes[nodes[node].inputs[arg]].label + " \u2192 " + nodes[node].label;
      p.append(t);
      edgeLayer.append(p);
      lines[node + ":" + arg] = p;
    }
    picture.append(edgeLayer);
    nodes.forEach((n, i) => {
      const [x, y, w, h] = d.boxes[i];
      const g = svg("g", { class: "node" + (n.constant ? " constant" : ""), tabindex: "0", role: "button" });
      g.setAttribute("aria-label", formula(i));
      g.append(svg("rect", { x: x, y: y, width: w, height: h, rx: 5 }));
      const head = svg("text", { x: x + 9, y: y + 21, class: "head" });
      head.textContent = cut(n.label) + "  " + n.symbol;
      const value = svg("text", { x: x + 9, y: y + 38 });
      const grad = svg("text", { x: x + 9, y: y + 55, class: "grad" });
      g.append(head, value, grad);
      g.addEventListener("click", () => inspect(i));
      g.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          event.stopPropagation();
          inspect(i);
        }
      });
      picture.append(g);
      shapes.push({ g: g, value: value, grad: grad });
    });
    graph.append(picture);
  } else {
    graph.append(el("p", "No drawing: the steps work without it, and their inspect buttons open the inspector.",
      "note"));
    graph.hidden = !data.note;
  }

  // -- one step ----------------------------------------------------------------------------------
  function row(dl, term, text, field) {
    const dd = el("dd", text);
    if (field) dd.dataset.field = field;
    dl.append(el("dt", term), dd);
    return dd;
  }

  function gradientsAt(s) {
    const grads = new Array(F).fill(null);
    if (s > F && (B > 0 || nodes[F - 1].grad !== undefined)) grads[F - 1] = "1";
    for (let k = 0; k < s - F - 1; k++) grads[edges[k].to] = edges[k].sum;
    return grads;
  }

  function show(s) {
    step = Math.max(0, Math.min(LAST, s));
    const grads = gradientsAt(step);
    const edge = step > F + 1 ? edges[step - F - 2] : null;
    const computing = step >= 1 && step <= F ? step - 1 : -1;
    shapes.forEach((shape, i) => {
      const n = nodes[i];
      const known = i < step;
      const cls = shape.g.classList;
      cls.toggle("pending", !known);
      cls.toggle("computing", i === computing);
      cls.toggle("sending", edge !== null && edge.from === i);
      cls.toggle("receiving", edge !== null && edge.to === i);
      cls.toggle("selected", selected === i);
      shape.value.textContent = "value " + (known ? n.value : "?");
      shape.grad.textContent = n.grad === undefined ? "no grad" : "grad " + (grads[i] === null ? "?" : grads[i]);
    });
    for (const key in lines) lines[key].classList.remove("active", "feeding");
    if (edge !== null && lines[edge.from + ":" + edge.arg]) lines[edge.from + ":" + edge.arg].classList.add("active");
    if (computing >= 0) {
      nodes[computing].inputs.forEach((p, a) => {
        if (lines[computing + ":" + a]) lines[computing + ":" + a].classList.add("feeding");
      });
    }
    position.textContent = "Step " + step + " of " + LAST;
    first.disabled = prev.disabled = step === 0;
    next.disabled = last.disabled = step === LAST;
    describe(step, edge, computing);
    const focus = edge !== null ? edge.to : computing;
    if (focus >= 0 && shapes[focus]) shapes[focus].g.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function describe(s, edge, computing) {
    stepBody.replaceChildren();
    const dl = el("dl");
    if (s === 0) {
      stepTitle.textContent = "Start";
      stepBody.append(el("p", "Step forward (\u2192) to compute each node after its inputs, then backward " +
        "along each edge from the output down."));
      return;
    }
    if (computing >= 0) {
      const n = nodes[computing];
      stepTitle.textContent = "Forward " + s + " of " + F + ": " + n.label;
      row(dl, "node", formula(computing), "formula");
      row(dl, "value", n.value, "value");
      row(dl, "inspect", null, "inspect").append(links([[computing, ""]].concat(n.inputs.map((p) => [p, ""])),
        (k) => "inspect " + nodes[k].label));
      stepBody.append(dl);
      return;
    }
    if (edge === null) {
      const out = nodes[F - 1];
      stepTitle.textContent = "Backward pass starts at the output " + out.label;
      if (B === 0 && out.grad === undefined) {
        stepBody.append(el("p", "No edges: every input is a constant, and constants need no gradient."));
      } else {
        row(dl, "seed", "\u2202" + out.label + "/\u2202" + out.label + " = 1", "seed");
        stepBody.append(dl);
        stepBody.append(el("p", B ? "Next, each edge sends upstream \u00d7 local to its input, " +
          "an input's contributions adding up (+=)." : "No edges: the output is a leaf."));
      }
      return;
    }
    const j = s - F - 1;
    const from = nodes[edge.from];
    const to = nodes[edge.to];
    stepTitle.textContent = "Backward edge " + j + " of " + B + ": " + from.label + " \u2192 " + to.label;
    row(dl, "rule", edge.rule, "rule");
    row(dl, "local", edge.local, "local");
    row(dl, "upstream", edge.upstream, "upstream").title = "the gradient of " + from.label + ", complete now";
    row(dl, "product", edge.upstream + " \u00d7 " + edge.local + " = ", null).append(productSpan(edge.product));
    const sum = row(dl, to.label + ".grad", null, null);
    if (edge.part > 1) {  // the += made visible: what the input held, plus this edge's product
      let before = null;
      for (let k = 0; k < j - 1; k++) if (edges[k].to === edge.to) before = edges[k].sum;
      sum.append(before + " + " + edge.product + " = ");
    }
    const total = el("span", edge.sum);
    total.dataset.field = "sum";
    sum.append(total);
    if (edge.parts > 1) {
      const part = el("span", " (" + edge.part + " of " + edge.parts + ")");
      part.dataset.field = "part";
      sum.append(part);
    }
    row(dl, "inspect", null, "inspect").append(links([[edge.from, ""], [edge.to, ""]],
      (k) => "inspect " + nodes[k].label));
    stepBody.append(dl);
    stepBody.append(el("p", edge.parts > 1
      ? to.label + " is used " + edge.parts + " times: its gradient adds up the contributions (+=)" +
        (edge.part === edge.parts ? ", and is complete now." : ".")
      : to.label + " is used once: this is its whole gradient.", "note"));
  }

  function productSpan(text) {
    const span = el("span", text);
    span.dataset.field = "product";
    return span;
  }

  // -- the inspector -----------------------------------------------------------------------------
  function links(ids, describeLink) {
    const div = el("div", null, "links");
    if (!ids.length) div.append(el("span", "none", "note"));
    for (const [i, extra] of ids) {
      const b = el("button", cut(nodes[i].label) + (extra ? " " + extra : ""));
      b.type = "button";
      b.title = describeLink(i);
      b.addEventListener("click", () => inspect(i));
      div.append(b);
    }
    return div;
  }

  function inspect(i) {
    selected = i;
    const n = nodes[i];
    inspector.replaceChildren();
    const title = el("h2", "Node " + n.label);
    title.id = "inspector-title";
    inspector.append(title);
    const dl = el("dl");
    row(dl, "node", formula(i), "formula");
    row(dl, "operation", n.op, "op");
    row(dl, "value", n.full, "value");
    row(dl, "gradient", n.gradFull === undefined ? "none (a constant takes no part in the backward pass)"
      : n.gradFull, "grad");
    const parents = row(dl, "inputs", null, "inputs");
    parents.append(links(n.inputs.map((p, a) => [p, n.inputs.length > 1 ? "(as " + "xy"[a] + ")" : ""]),
      (p) => "inspect " + nodes[p].label));
    const users = row(dl, "used by", null, "consumers");
    const usedBy = [...new Set(consumers[i].map(([c]) => c))];
    users.append(links(usedBy.map((c) => [c, ""]), (c) => "inspect " + nodes[c].label));
    inspector.append(dl);
    const rules = edges.filter((e) => e.from === i);
    if (rules.length) {
      inspector.append(el("h2", "Its derivative rules"));
      const rl = el("dl");
      for (const e of rules) row(rl, "\u2192 " + cut(nodes[e.to].label), e.rule + "  = " + e.local, "rules");
      inspector.append(rl);
    }
    const into = edges.filter((e) => e.to === i);
    if (into.length) {
      inspector.append(el("h2", "Gradient received"));
      const gl = el("dl");
      for (const e of into) {
        row(gl, "from " + cut(nodes[e.from].label), e.upstream + " \u00d7 " + e.local + " = " + e.product +
          (e.parts > 1 ? "  (" + e.part + " of " + e.parts + ", sum " + e.sum + ")" : ""), "received");
      }
      inspector.append(gl);
    }
    if (n.check) {
      inspector.append(el("h2", "Central-difference check"));
      if (n.check.note) {
        inspector.append(el("p", n.check.note, "note"));
      } else {
        const cl = el("dl");
        row(cl, "numeric", n.check.numeric, "numeric").title = "(f(x+h) - f(x-h)) / 2h, h = " + n.check.h;
        row(cl, "analytic", n.check.analytic, "analytic");
        row(cl, "error", n.check.error, "error");
        const verdict = row(cl, "verdict", n.check.ok ? "agree" : "differ", "verdict");
        verdict.className = n.check.ok ? "ok" : "bad";
        inspector.append(cl);
        inspector.append(el("p", "d(output)/d" + n.label + " by (f(x+h) \u2212 f(x\u2212h)) / 2h with h = " +
          n.check.h + ", as autodiff check computes it.", "note"));
      }
    }
    shapes.forEach((shape, k) => shape.g.classList.toggle("selected", k === i));
  }

  function emptyInspector() {
    inspector.append(el("h2", "Inspector"));
    inspector.append(el("p", data.drawing ? "Click a node (or Tab to it and press Enter) to see its operation, " +
      "value, gradient, inputs, consumers and rules." : "No drawing to click: use a step's inspect buttons.",
    "note"));
  }

  // -- play and keys -----------------------------------------------------------------------------
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "\u25b6 play";
  }
  function toggle() {
    if (timer !== null) { stop(); return; }
    if (step === LAST) show(0);
    play.textContent = "\u23f8 pause";
    timer = setInterval(() => { if (step >= LAST) stop(); else show(step + 1); }, 900);
  }
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const onButton = event.target instanceof HTMLButtonElement;
    if (event.key === "ArrowRight") { stop(); show(step + 1); }
    else if (event.key === "ArrowLeft") { stop(); show(step - 1); }
    else if (event.key === "Home") { stop(); show(0); }
    else if (event.key === "End") { stop(); show(LAST); }
    else if (event.key === " " && !onButton) toggle();
    else return;
    event.preventDefault();
  });

  emptyInspector();
  show(0);
})();
