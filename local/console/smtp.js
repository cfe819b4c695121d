// The SMTP page's actions: loading the settings, Test Connection with each stage's result, and
// queuing a test notification.

import { $, el } from "./dom.js";
import { editedSettings, renderSettings } from "./settings-form.js";

function renderTest(result, status) {
  const box = $("test-result");
  box.replaceChildren();
  if (status !== 200) {
    box.className = "result bad";
    box.append(
      el("strong", { textContent: `Request refused (${status}): ` }),
      result.error ?? "unknown error",
    );
    return;
  }
  box.className = `result ${result.ok ? "ok" : "bad"}`;
  box.append(
    el("strong", {
      textContent: result.ok
        ? "No errors were reported while sending an email. Please check your inbox to make sure."
        : "Connection unsuccessful",
    }),
  );
  const list = el("ol", { className: "stages" });
  for (const stage of result.stages) {
    list.append(
      el("li", {
        className: stage.ok ? "stage-ok" : "stage-bad",
        textContent: `${stage.ok ? "✓" : "✗"} ${stage.stage} (${stage.ms} ms)`,
        dataset: { stage: stage.stage, ok: String(stage.ok) },
      }),
    );
  }
  box.append(list);
  if (result.error) {
    box.append(
      el("p", {
        className: "error",
        id: "test-error",
        textContent: `${result.error.stage}: ${result.error.message}`,
      }),
    );
  }
}

export async function loadSettings() {
  const res = await fetch("/api/settings");
  const json = await res.json();
  if (!res.ok) {
    $("settings-error").hidden = false;
    $("settings-error").textContent = json.error;
    return;
  }
  $("settings-error").hidden = true;
  renderSettings(json);
}

/** Wires the page's two forms. */
export function wireSmtpPage() {
  $("smtp-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("test-connection");
    button.disabled = true;
    button.textContent = "Testing…";
    try {
      const to = $("test-to").value.trim();
      const res = await fetch("/email/test", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ settings: editedSettings(), ...(to ? { to } : {}) }),
      });
      renderTest(await res.json(), res.status);
    } finally {
      button.disabled = false;
      button.textContent = "Test Connection";
    }
  });

  $("notify-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const res = await fetch("/notifications", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: $("n-to").value, subject: $("n-subject").value, html: $("n-html").value }),
    });
    const json = await res.json();
    const box = $("notify-result");
    box.className = `result ${res.ok ? "ok" : "bad"}`;
    box.textContent = res.ok
      ? `Queued as ${json.messageId}. It appears under Captured mail once sent.`
      : json.error;
  });
}
