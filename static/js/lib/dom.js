// DOM helpers every page uses: building elements, keyed lists that keep focus and half-typed input through live
// updates, one redraw per frame, and the screen reader's live region.

/** The first element matching `selector`, as the pages look up the parts of their template. */
export const $ = (selector, root = document) => root.querySelector(selector);

export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// Keep one element per question, redraw it only when it changed and move it only when its place changed;
// focus is put back where it was, so keyboard and screen reader users keep their place during updates.
export function renderKeyed(list, items, render, signature = (item) => JSON.stringify(item)) {
  const active = document.activeElement;
  const activeItem = active && list.contains(active) ? active.closest("li[data-id]") : null;
  const focus = activeItem ? { id: activeItem.dataset.id, action: active.dataset.action } : null;
  const existing = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const wanted = new Set(items.map((q) => String(q.id)));
  for (const [id, li] of existing) if (!wanted.has(id)) li.remove();
  let previous = null;
  for (const item of items) {
    let li = existing.get(String(item.id));
    if (!li) {
      li = document.createElement("li");
      li.dataset.id = String(item.id);
    }
    const sig = signature(item);
    if (li.dataset.sig !== sig) {
      li.replaceChildren();
      render(li, item);
      li.dataset.sig = sig;
    }
    const expectedPosition = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expectedPosition !== li) list.insertBefore(li, expectedPosition);
    previous = li;
  }
  if (focus && !list.contains(document.activeElement)) {
    const li = list.querySelector(`li[data-id="${focus.id}"]`);
    const target = li && (focus.action ? li.querySelector(`[data-action="${focus.action}"]`) : null);
    if (target && !target.disabled) target.focus();
    else if (li) {
      li.tabIndex = -1;
      li.focus();
    }
  }
}

/** Batches many store changes into one render per animation frame. */
export function perFrame(draw) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      draw();
    });
  };
}

export function announce(text) {
  const region = document.querySelector("[data-announcer]");
  if (!region) return;
  // Clearing first makes screen readers announce the same sentence twice in a row, too.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
