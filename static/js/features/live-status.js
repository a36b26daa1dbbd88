// The moderator page's view of the server: how many viewers are connected now, and a banner while changes cannot be
// saved (a full disk, a read-only database). Asked every few seconds, so that it recovers by itself like the page.
import { api } from "../lib/api.js";
import { formatCount } from "../lib/format.js";
import { t, tn } from "../lib/i18n.js";

const REFRESH_MS = 10000;

export function liveStatus(url, root = document) {
  const figure = root.querySelector("[data-live-viewers]");
  const count = root.querySelector("[data-live-viewers-count]");
  const banner = root.querySelector("[data-storage-banner]");

  async function refresh() {
    let status;
    try {
      status = await api("GET", url);
    } catch {
      return; // no connection: the connection indicator says so, and the figures stay until the next answer
    }
    count.textContent = tn(status.viewers, t("1 Zuschauerin oder Zuschauer"), t("{count} Zuschauende"), {
      count: formatCount(status.viewers),
    });
    figure.hidden = false;
    banner.hidden = status.storage.writable;
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
  // A refused action says at once what the next refresh would.
  return { refresh, storageFailed: () => { banner.hidden = false; } };
}
