// The Queue page: the local queue's counters and recent history, its dead letters, the
// embedded SMTP server's limits (shown and changed), and a burst of test notifications.

import { $, el } from "./dom.js";

const HISTORY = 120;
const history = [];
let limitsShown = false;

const seconds = (ms) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function setCounter(name, value) {
  for (const node of document.querySelectorAll(`[data-counter="${name}"]`)) node.textContent = String(value);
}

function describeLimits(limits) {
  const rate =
    limits.ratePerSecond === null
      ? "no rate limit"
      : `${limits.ratePerSecond} messages a second (up to ${limits.burst ?? Math.max(1, limits.ratePerSecond)} at once)`;
  const connections =
    limits.maxConnections === null
      ? "no connection limit"
      : plural(limits.maxConnections, "connection", "connections");
  return `Now: ${rate}, ${connections}, ${limits.down ? "DOWN (outage)" : "up"}.`;
}

function fillLimitsForm(limits) {
  $("l-rate").value = limits.ratePerSecond === null ? "" : String(limits.ratePerSecond);
  $("l-connections").value = limits.maxConnections === null ? "" : String(limits.maxConnections);
  $("l-down").checked = limits.down;
}

function renderHistory() {
  const top = Math.max(1, ...history.map((h) => h.visible + h.delayed + h.inFlight));
  const bars = history.map((h) => {
    const bar = el("div", { className: "bar" });
    for (const [kind, n] of [
      ["inflight", h.inFlight],
      ["delayed", h.delayed],
      ["visible", h.visible],
    ]) {
      const segment = el("span", { className: `seg seg-${kind}` });
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      segment.style.height = `${(100 * n) / top}%`;
      bar.append(segment);
    }
    return bar;
  });
  $("q-history").replaceChildren(...bars);
  $("q-history").setAttribute(
    "aria-label",
    `Records not yet sent over the last two minutes: at most ${top}, now ${history.at(-1)?.total ?? 0}`,
  );
}

function renderQueue({ queue, config, deadLetters, smtp }) {
  $("queue-error").hidden = true;
  $("queue-config").textContent =
    `Visibility timeout ${seconds(config.visibilityTimeoutMs)}, dead letter after ${plural(config.maxReceiveCount, "receive", "receives")}, ` +
    `up to ${plural(config.maxConcurrency, "batch", "batches")} of ${config.batchSize} at once, ` +
    `back-off delays ×${config.delayScale}${config.delayScale === 1 ? " (as deployed)" : " (scaled down for this run)"}.`;
  for (const name of ["visible", "delayed", "inFlight", "sent", "deadLettered"])
    setCounter(name, queue[name]);
  $("q-soonest").textContent =
    queue.soonestReturnInMs === null
      ? "in back-off"
      : `in back-off; next back in ${seconds(queue.soonestReturnInMs)}`;
  $("q-batches").textContent = `${queue.batchesInFlight} of ${config.maxConcurrency} batches running`;

  for (const name of ["throttledMessages", "refusedConnections", "openConnections"])
    setCounter(name, smtp.stats[name]);
  setCounter("captured", smtp.captured);
  $("limits-now").textContent = describeLimits(smtp.limits);
  if (!limitsShown) {
    fillLimitsForm(smtp.limits);
    limitsShown = true;
  }

  history.push({ ...queue, total: queue.visible + queue.delayed + queue.inFlight });
  if (history.length > HISTORY) history.shift();
  renderHistory();

  $("q-dead-rows").replaceChildren(
    ...(deadLetters.length
      ? deadLetters.map((d) =>
          el(
            "tr",
            { dataset: { deadLetter: d.messageId, by: d.by } },
            el("td", { textContent: new Date(d.deadAt).toLocaleTimeString() }),
            el("td", { textContent: String(d.receiveCount) }),
            el("td", {}, el("code", { textContent: d.code })),
            el(
              "td",
              {},
              el("span", { textContent: d.reason }),
              el("span", {
                className: "help",
                textContent: ` (${d.by === "function" ? "moved by send-notification" : "receive limit"}; ${d.messageId})`,
              }),
            ),
          ),
        )
      : [el("tr", {}, el("td", { colSpan: 4, textContent: "None." }))]),
  );
}

export async function refreshQueue() {
  try {
    const res = await fetch("/api/queue");
    const json = await res.json();
    if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
    renderQueue(json);
  } catch (error) {
    $("queue-error").hidden = false;
    $("queue-error").textContent = `Could not read the queue: ${error.message}`;
  }
}

function showResult(box, ok, text) {
  box.className = `result ${ok ? "ok" : "bad"}`;
  box.textContent = text;
}

/** Wires the page's two forms. */
export function wireQueuePage() {
  $("limits-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = $("limits-form");
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const number = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));
    const res = await fetch("/api/smtp-limits", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        ratePerSecond: number("l-rate"),
        maxConnections: number("l-connections"),
        down: $("l-down").checked,
      }),
    });
    const json = await res.json();
    if (!res.ok) {
      const input = json.field ? form.elements.namedItem(json.field) : null;
      if (input) input.setAttribute("aria-invalid", "true");
      showResult($("limits-result"), false, json.error);
      return;
    }
    fillLimitsForm(json.limits);
    showResult($("limits-result"), true, `Applied. ${describeLimits(json.limits)}`);
    refreshQueue();
  });

  $("burst-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const res = await fetch("/notifications/burst", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: Number($("b-count").value), to: $("b-to").value.trim() }),
    });
    const json = await res.json();
    showResult(
      $("burst-result"),
      res.ok,
      res.ok
        ? `Queued ${plural(json.count, "notification", "notifications")}. Watch them drain above.`
        : json.error,
    );
    refreshQueue();
  });
}
