// What the server tells a page's script: the event's slug, the role, a studio token (`partials/config.html`).
export function pageConfig() {
  return JSON.parse(document.getElementById("page-config").textContent);
}
