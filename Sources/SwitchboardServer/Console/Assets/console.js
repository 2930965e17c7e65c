// Switchboard console: live progress over server-sent events (no polling). Everything else
// is plain HTML forms and links.
"use strict";

function setText(root, selector, value) {
  const element = root.querySelector(selector);
  if (element && value !== undefined) element.textContent = String(value);
}

function followCampaign(section) {
  const id = section.dataset.liveCampaign;
  const events = new EventSource("/campaigns/" + encodeURIComponent(id) + "/events");
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    document.getElementById("progress").value = data.percent;
    setText(document, "#status", data.status);
    setText(document, "#settled", data.settled);
    setText(document, "#total", data.total);
    for (const name of ["completed", "failed", "inProgress", "pending", "retryScheduled", "notCalled", "suppressed"]) {
      setText(document, "#count-" + name, data[name]);
    }
    // The chart is SVG made (and escaped) by the server.
    document.getElementById("chart").innerHTML = data.chart;
  };
  events.addEventListener("done", () => {
    events.close();
    // Show the final page: its calls, failed numbers and the actions that now apply.
    window.location.reload();
  });
}

function followList(section) {
  const ids = section.dataset.liveList;
  const events = new EventSource("/campaigns/events?ids=" + encodeURIComponent(ids));
  events.onmessage = (message) => {
    const data = JSON.parse(message.data);
    const row = section.querySelector('tr[data-campaign="' + CSS.escape(data.id) + '"]');
    if (!row) return;
    row.querySelector('[data-field="percent"]').value = data.percent;
    for (const name of ["status", "settled", "total", "completed", "failed"]) setText(row, '[data-field="' + name + '"]', data[name]);
  };
  events.addEventListener("done", () => events.close());
}

document.addEventListener("DOMContentLoaded", () => {
  const campaign = document.querySelector("[data-live-campaign]");
  if (campaign) followCampaign(campaign);
  const list = document.querySelector("[data-live-list]");
  if (list && list.dataset.liveList) followList(list);
});
