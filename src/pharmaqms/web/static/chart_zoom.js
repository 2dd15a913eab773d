// Zoom and pan of a server-drawn SVG chart (control charts, the genealogy graph) through its
// viewBox: buttons (+, −, fit), the mouse wheel around the pointer, and dragging to move.
// Every box marked [data-zoom] gets it. A chart the page swaps in (the live control chart)
// keeps the reader's view. Plain JavaScript, no build step, nothing from outside the server.
(() => {
  const MAX_ZOOM = 20;
  const STEP = 1.5;

  function boxOf(svg) {
    const [x, y, w, h] = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
    return [x, y, w, h].every(Number.isFinite) && w > 0 && h > 0 ? { x, y, w, h } : null;
  }

  function attach(box) {
    let svg = box.querySelector("svg");
    if (!svg) return;
    let whole = boxOf(svg);
    if (!whole) return;
    let view = { ...whole };

    // Never wider than the whole drawing, and never moved off it.
    function clamp(next) {
      const w = Math.min(Math.max(next.w, whole.w / MAX_ZOOM), whole.w);
      const h = (w / whole.w) * whole.h;
      const x = Math.min(Math.max(next.x, whole.x), whole.x + whole.w - w);
      const y = Math.min(Math.max(next.y, whole.y), whole.y + whole.h - h);
      return { x, y, w, h };
    }

    function show() {
      svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
      box.classList.toggle("zoomed", view.w < whole.w);
    }

    // Zoom by ``factor`` (> 1 closer) keeping the drawing's point (fx, fy) where it is.
    function zoom(factor, fx, fy) {
      const cx = fx ?? view.x + view.w / 2;
      const cy = fy ?? view.y + view.h / 2;
      const w = view.w / factor;
      const h = view.h / factor;
      view = clamp({ x: cx - ((cx - view.x) / view.w) * w, y: cy - ((cy - view.y) / view.h) * h, w, h });
      show();
    }

    // The drawing's coordinates under a pointer event.
    function at(event) {
      const rect = svg.getBoundingClientRect();
      return {
        x: view.x + ((event.clientX - rect.left) / rect.width) * view.w,
        y: view.y + ((event.clientY - rect.top) / rect.height) * view.h,
      };
    }

    const bar = document.createElement("div");
    bar.className = "zoom-bar";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Zoom");
    for (const [label, name, act] of [
      ["+", "Zoom in", () => zoom(STEP)],
      ["−", "Zoom out", () => zoom(1 / STEP)],
      ["Fit", "Show all", () => { view = { ...whole }; show(); }],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-small";
      button.textContent = label;
      button.title = name;
      button.setAttribute("aria-label", name);
      button.dataset.zoomAction = name;
      button.addEventListener("click", act);
      bar.append(button);
    }
    box.before(bar);

    box.addEventListener("wheel", (event) => {
      if (!svg.contains(event.target)) return;
      event.preventDefault();
      const p = at(event);
      zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, p.x, p.y);
    }, { passive: false });

    // A link (a genealogy node) would start the browser's own drag of its address instead.
    box.addEventListener("dragstart", (event) => event.preventDefault());
    let drag = null;
    box.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || !svg.contains(event.target) || view.w >= whole.w) return;
      drag = { x: event.clientX, y: event.clientY, view: { ...view }, moved: false };
    });
    window.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const rect = svg.getBoundingClientRect();
      const dx = ((event.clientX - drag.x) / rect.width) * drag.view.w;
      const dy = ((event.clientY - drag.y) / rect.height) * drag.view.h;
      if (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) > 3) drag.moved = true;
      view = clamp({ ...drag.view, x: drag.view.x - dx, y: drag.view.y - dy });
      show();
    });
    window.addEventListener("pointerup", () => {
      if (drag && drag.moved) {
        // A drag is not a click on the node or point it ended on.
        const swallow = (e) => { e.preventDefault(); e.stopPropagation(); };
        box.addEventListener("click", swallow, { capture: true, once: true });
        window.setTimeout(() => box.removeEventListener("click", swallow, { capture: true }), 0);
      }
      drag = null;
    });

    // Printed, the whole drawing; on screen again, the reader's view.
    let before = null;
    window.addEventListener("beforeprint", () => { before = view; view = { ...whole }; show(); });
    window.addEventListener("afterprint", () => { if (before) { view = before; show(); } before = null; });

    // The live chart swaps its SVG in: keep the reader's view on the new one.
    new MutationObserver(() => {
      const fresh = box.querySelector("svg");
      if (!fresh || fresh === svg) return;
      svg = fresh;
      const drawn = boxOf(svg);
      if (drawn) {
        whole = drawn;
        view = clamp(view);
        show();
      }
    }).observe(box, { childList: true });
  }

  document.querySelectorAll("[data-zoom]").forEach(attach);
})();
