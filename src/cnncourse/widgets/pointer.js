// The pointing convolution explorer's drawing (cnncourse.widgets.pointer, Sections 7.2-7.3).
// Shipped inline by anywidget from Python; no build step, no imports, nothing fetched.
// It only draws what Python computed (labels, windows, fed-by sets, formulas, code) and
// reports the pointer back: clicks set pinned_output / pinned_input, painting sends
// {event: "paint", id} messages. It never computes a number itself. Cells are known by ids:
// each panel numbers its cells grid after grid, row-major, as Python's lists do.

const CELL = 34; // pixels per cell unless a panel says otherwise; each grid tells it in data-cell

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function panel(name) {
  const box = make("div", `cp-panel cp-${name}`);
  const title = make("div", "cp-title");
  const grids = make("div", "cp-grids");
  box.append(title, grids);
  return { box, title, grids, cells: [] };
}

// One panel: a title and its grids (one per channel; the kernel panel one per output and
// input channel, `columns` to a row). Every cell carries the id Python's lists use.
function shapeOf(spec) {
  return JSON.stringify([spec.columns, spec.cell, spec.grids.map((g) => [g.labels.length, g.labels[0]?.length || 0])]);
}

// Same grids as before (a paint, a flip, a new kernel): new labels in place, so the cells under
// the mouse stay the same elements while a student paints.
function relabel(part, spec) {
  part.title.textContent = spec.title || "";
  spec.grids.forEach((grid, g) => {
    part.grids.children[g].firstChild.textContent = grid.title || "";
    const cols = grid.labels.length ? grid.labels[0].length : 0;
    grid.labels.forEach((row, r) => row.forEach((text, c) => {
      const cell = part.cells[grid.first + r * cols + c];
      cell.textContent = text;
      cell.classList.toggle("cp-pad", Boolean(grid.pad && grid.pad.length && grid.pad[r][c]));
      shade(cell, grid, r, c);
    }));
  });
}

// A grid with shades (an image, a feature map) draws each cell's gray level as its background;
// the highlights then lie over it (pointer.css) instead of replacing it.
function shade(cell, grid, r, c) {
  const level = grid.shades ? grid.shades[r][c] : null;
  cell.classList.toggle("cp-shaded", level !== null);
  if (level === null) {
    cell.style.removeProperty("--shade");
    return;
  }
  const gray = Math.round(255 * level);
  cell.style.setProperty("--shade", `rgb(${gray}, ${gray}, ${gray})`);
}

function fill(part, spec) {
  if (part.shape === shapeOf(spec)) {
    relabel(part, spec);
    return;
  }
  part.shape = shapeOf(spec);
  part.title.textContent = spec.title || "";
  part.grids.replaceChildren();
  part.grids.style.gridTemplateColumns = `repeat(${spec.columns || 1}, max-content)`;
  part.cells = [];
  spec.grids.forEach((grid, g) => {
    const box = make("div", "cp-grid-box");
    const label = make("div", "cp-grid-title", grid.title || "");
    const node = make("div", "cp-grid");
    const rows = grid.labels.length;
    const cols = rows ? grid.labels[0].length : 0;
    const size = spec.cell || CELL;
    node.style.gridTemplateColumns = `repeat(${cols}, ${size}px)`;
    node.dataset.rows = String(rows);
    node.dataset.cols = String(cols);
    node.dataset.cell = String(size);
    node.dataset.grid = String(g);
    grid.labels.forEach((row, r) => row.forEach((text, c) => {
      const cell = make("div", "cp-cell", text);
      cell.style.width = cell.style.height = `${size}px`;
      const id = grid.first + r * cols + c;
      Object.assign(cell.dataset, { row: String(r), col: String(c), grid: String(g), id: String(id) });
      if (grid.pad && grid.pad.length && grid.pad[r][c]) cell.classList.add("cp-pad");
      shade(cell, grid, r, c);
      part.cells[id] = cell;
      node.appendChild(cell);
    }));
    box.append(label, node);
    part.grids.appendChild(box);
  });
}

function render({ model, el }) {
  const root = make("div", "cp-root");
  const row = make("div", "cp-row");
  const input = panel("input");
  const kernel = panel("kernel");
  const output = panel("output");
  row.append(input.box, kernel.box, output.box);
  const parts = { input, kernel, output };
  const info = make("div", "cp-info");
  const lines = make("div", "cp-lines");
  const problem = make("div", "cp-problem");
  const codeBox = make("div", "cp-code-box");
  const copy = make("button", "cp-copy", "copy code");
  const code = make("pre", "cp-code");
  codeBox.append(copy, code);
  root.append(row, info, lines, problem, codeBox);
  el.appendChild(root);

  let hover = null; // {panel: "input" | "output", index}
  let painting = false;
  let lastPainted = -1;

  function focus() {
    if (hover) return hover;
    if (model.get("pinned_output") >= 0) return { panel: "output", index: model.get("pinned_output") };
    if (model.get("pinned_input") >= 0) return { panel: "input", index: model.get("pinned_input") };
    return null;
  }

  function highlight() {
    for (const part of [input, kernel, output]) {
      for (const cell of part.grids.querySelectorAll(".cp-window, .cp-fed, .cp-focus, .cp-tap, .cp-pinned")) {
        cell.classList.remove("cp-window", "cp-fed", "cp-focus", "cp-tap", "cp-pinned");
        delete cell.dataset.weight;
      }
    }
    output.cells[model.get("pinned_output")]?.classList.add("cp-pinned");
    input.cells[model.get("pinned_input")]?.classList.add("cp-pinned");
    const now = focus();
    info.textContent = "";
    if (!now) {
      info.textContent = "Point at an output cell to see what it reads, or at an input cell to see what it feeds; click to pin.";
      return;
    }
    if (now.panel === "output") {
      const reads = model.get("reads")[now.index];
      if (!reads) return;
      output.cells[now.index]?.classList.add("cp-focus");
      for (const [from, weight] of reads) {
        const cell = input.cells[from];
        const tap = kernel.cells[weight];
        if (cell) {
          cell.classList.add("cp-window");
          if (tap) cell.dataset.weight = "×" + tap.textContent;
        }
        tap?.classList.add("cp-tap");
      }
      info.textContent = model.get("formulas")[now.index] || "";
    } else {
      const outs = model.get("feeds")[now.index];
      if (!outs) return;
      input.cells[now.index]?.classList.add("cp-focus");
      for (const o of outs) output.cells[o]?.classList.add("cp-fed");
      info.textContent = model.get("feed_texts")[now.index] || "";
    }
  }

  function redraw() {
    const panels = model.get("panels");
    for (const [name, part] of Object.entries(parts)) fill(part, panels[name] || { grids: [] });
    lines.replaceChildren(...model.get("lines").map((line) => make("div", "", line)));
    problem.textContent = model.get("problem");
    code.textContent = model.get("code");
    codeBox.style.display = model.get("code") ? "" : "none";
    input.box.classList.toggle("cp-painting", model.get("paint"));
    highlight();
  }

  function pointed(event, part) {
    const cell = event.target.closest(".cp-cell");
    return cell && part.grids.contains(cell) ? cell : null;
  }

  function paintAt(cell) {
    const id = Number(cell.dataset.id);
    if (cell.classList.contains("cp-pad") || id === lastPainted) return;
    lastPainted = id;
    model.send({ event: "paint", id });
  }

  for (const [name, part] of [["input", input], ["output", output]]) {
    part.grids.addEventListener("mousemove", (event) => {
      const cell = pointed(event, part);
      if (!cell) return;
      if (painting && name === "input") paintAt(cell);
      const index = Number(cell.dataset.id);
      if (!hover || hover.panel !== name || hover.index !== index) {
        hover = { panel: name, index };
        highlight();
      }
    });
    part.grids.addEventListener("mouseleave", () => {
      hover = null;
      highlight();
    });
    part.grids.addEventListener("mousedown", (event) => {
      const cell = pointed(event, part);
      if (!cell) return;
      event.preventDefault();
      if (name === "input" && model.get("paint")) {
        painting = true;
        lastPainted = -1;
        paintAt(cell);
        return;
      }
      const index = Number(cell.dataset.id);
      const trait = name === "output" ? "pinned_output" : "pinned_input";
      const other = name === "output" ? "pinned_input" : "pinned_output";
      model.set(trait, model.get(trait) === index ? -1 : index);
      model.set(other, -1);
      model.save_changes();
      highlight();
    });
  }
  const stopPainting = () => {
    painting = false;
    lastPainted = -1;
  };
  window.addEventListener("mouseup", stopPainting);

  copy.addEventListener("click", async () => {
    const text = model.get("code");
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {
      const range = document.createRange(); // no clipboard permission: select it for Ctrl+C
      range.selectNodeContents(code);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      document.execCommand("copy");
    }
    copy.textContent = "copied";
    setTimeout(() => { copy.textContent = "copy code"; }, 1500);
  });

  model.on("change", redraw);
  redraw();
  return () => {
    window.removeEventListener("mouseup", stopPainting);
    model.off("change", redraw);
  };
}

export default { render };
