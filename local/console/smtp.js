// The SMTP page's actions: loading the settings, Test Connection with each stage's result, Save
// (the changed settings into the settings file, each checked before any is written), and queuing a
// test notification.

import { $, el } from "./dom.js";
import { changedSettings, editedSettings, isStored, renderSettings } from "./settings-form.js";

/** The loaded settings' credential and where it goes (GET /api/settings), for Save's question. */
let credential;

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
  credential = json.credential;
  renderSettings(json);
}

/** The question to ask when the changes send a stored credential somewhere else, or undefined. */
function credentialMove(changes) {
  if (!credential || !isStored(credential.secret) || credential.secret in changes) return undefined;
  const moved = credential.destination.filter((name) => name in changes);
  if (moved.length === 0) return undefined;
  return `${moved.map((name) => `${name} → ${changes[name]}`).join(", ")}: the stored ${credential.secret} would be sent there from now on. Save anyway? (To send another, enter ${credential.secret} too.)`;
}

async function putSetting(name, value, dryRun) {
  const res = await fetch(`/api/settings/${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ value, ...(dryRun ? { dryRun: true } : {}) }),
  });
  return { name, ok: res.ok, json: await res.json() };
}

async function save() {
  const box = $("save-result");
  box.replaceChildren();
  const changes = changedSettings();
  const names = Object.keys(changes);
  if (names.length === 0) {
    box.className = "result";
    box.textContent = "Nothing changed: nothing to save.";
    return;
  }
  const question = credentialMove(changes);
  if (question && !window.confirm(question)) {
    box.className = "result bad";
    box.textContent = "Not saved.";
    return;
  }
  // Every value is checked first; one refused, none is written.
  const refused = [];
  for (const name of names) {
    const check = await putSetting(name, changes[name], true);
    if (!check.ok) refused.push(check.json.error ?? `${name}: refused`);
  }
  if (refused.length > 0) {
    box.className = "result bad";
    box.append(
      el("strong", { textContent: "Nothing was saved: " }),
      ...refused.map((text) => el("p", { className: "error", textContent: text })),
    );
    return;
  }
  const warnings = [];
  let file = "";
  for (const name of names) {
    const written = await putSetting(name, changes[name], false);
    if (!written.ok) {
      box.className = "result bad";
      box.append(el("p", { className: "error", textContent: written.json.error ?? `${name}: refused` }));
      await loadSettings();
      return;
    }
    file = written.json.file ?? file;
    warnings.push(...(written.json.warnings ?? []));
  }
  box.className = "result ok";
  box.append(el("strong", { textContent: `Saved ${names.join(", ")} to ${file}.` }));
  for (const warning of warnings) box.append(el("p", { className: "warning", textContent: warning }));
  await loadSettings();
}

/** Wires the page's two forms and Save. */
export function wireSmtpPage() {
  $("save-settings").addEventListener("click", () => void save());
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
