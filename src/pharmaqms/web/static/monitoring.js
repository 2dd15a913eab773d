// Live control chart: poll the page's live endpoint with the stamp the page was drawn at; when
// a reading or an alert has arrived since, swap in the chart (SVG drawn and escaped on the
// server) and list the latest alerts. Plain JavaScript, no build step.
(() => {
  const box = document.querySelector("[data-live-chart]");
  if (!box) return;
  const url = box.dataset.liveChart;
  let stamp = box.dataset.stamp || "";
  const every = 1000;
  const counter = document.querySelector("[data-open-alerts]");
  const updated = document.querySelector("[data-updated]");
  const list = document.querySelector("[data-live-alerts]");

  function showAlerts(alerts) {
    if (!list) return;
    list.replaceChildren(
      ...alerts
        .filter((a) => a.status === "open")
        .slice(0, 5)
        .map((a) => {
          const item = document.createElement("li");
          const link = document.createElement("a");
          link.href = a.url;
          link.textContent = a.number;
          item.append(link, ` ${a.rule}: ${a.rule_name} · batch ${a.batch} · point ${a.point_index}`);
          return item;
        }),
    );
  }

  async function poll() {
    try {
      const response = await fetch(`${url}?since=${encodeURIComponent(stamp)}`, {
        headers: { accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const live = await response.json();
        if (live.changed) {
          stamp = live.stamp;
          box.innerHTML = live.svg;
          if (counter) counter.textContent = String(live.open_alerts);
          showAlerts(live.alerts);
          if (updated) updated.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
        }
      }
    } catch (error) {
      // The next poll tries again: a restarting server must not stop the page.
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
