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
  // The time in the reader's zone, which the page's footer names (an account setting, not
  // the browser's zone).
  const readerTime = (moment) => {
    const named = document.querySelector('[data-testid="time-zone"]');
    const zone = named ? named.textContent.trim() : "UTC";
    try {
      return new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit",
        hourCycle: "h23", timeZoneName: "short",
      }).format(moment);
    } catch (error) {
      return `${moment.toISOString().slice(11, 19)} UTC`;
    }
  };
  // A point's date and time in the reader's zone, as the chart's axis shows it.
  const readerMoment = (moment) => {
    const named = document.querySelector('[data-testid="time-zone"]');
    const zone = named ? named.textContent.trim() : "UTC";
    try {
      return new Intl.DateTimeFormat("sv-SE", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
        minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
      }).format(moment);
    } catch (error) {
      return `${moment.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    }
  };
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
          const when = a.measured_at ? readerMoment(new Date(a.measured_at)) : "";
          item.append(link, ` ${a.rule}: ${a.rule_name} · batch ${a.batch} · measured ${when}`);
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
          if (updated) updated.textContent = `updated ${readerTime(new Date())}`;
        }
      }
    } catch (error) {
      // The next poll tries again: a restarting server must not stop the page.
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
