// The local console: Environment > SMTP as the reference System Console shows it, with each
// value's source, plus the mail the embedded SMTP server captured. Plain DOM, no framework;
// every server-provided string goes in through textContent, never innerHTML.

const FIELDS = [
  ["SMTPServer", "SMTP Server:", "text", "Location of SMTP email server."],
  ["SMTPPort", "SMTP Server Port:", "number", "Port of SMTP email server."],
  [
    "EnableSMTPAuth",
    "Enable SMTP Authentication:",
    "bool",
    "When true, SMTP Server Username and Password are used to authenticate.",
  ],
  ["SMTPUsername", "SMTP Server Username:", "text", "The username for authenticating to the SMTP server."],
  ["SMTPPassword", "SMTP Server Password:", "password", "The password associated with the SMTP username."],
  [
    "ConnectionSecurity",
    "Connection Security:",
    "security",
    "None: send over an unsecure connection. TLS: encrypted from the first byte. STARTTLS: upgrade to TLS, required.",
  ],
  [
    "SkipServerCertificateVerification",
    "Skip Server Certificate Verification:",
    "bool",
    "When true, the email server certificate is not verified.",
  ],
  [
    "EnableSecurityFixAlert",
    "Enable Security Alerts:",
    "bool",
    "When true, System Admins are notified by email of relevant security fix alerts.",
  ],
  ["SMTPServerTimeout", "SMTP Server Timeout:", "number", "Seconds any SMTP stage may take."],
  ["SendEmailNotifications", "Enable Email Notifications:", "bool", "Master switch for notification email."],
  [
    "FeedbackName",
    "Notification Display Name:",
    "text",
    "Display name on email account used when sending notification emails.",
  ],
  [
    "FeedbackEmail",
    "Notification From Address:",
    "email",
    "Email address displayed on email account used when sending notification emails.",
  ],
  [
    "ReplyToAddress",
    "Notification Reply-To Address:",
    "email",
    "Email address used in the Reply-To header; empty for none.",
  ],
];
const ENV_LOCKED =
  "This setting has been set through an environment variable. It cannot be changed through the System Console.";

const $ = (id) => document.getElementById(id);
/** createElement with properties; `dataset` and `attrs` (aria-*, role) are set as attributes. */
const el = (tag, { dataset = {}, attrs = {}, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
};

function describeSource(source) {
  switch (source.layer) {
    case "default":
      return "default";
    case "ssm":
      return `SSM parameter ${source.name}`;
    case "file":
      return `settings file ${source.name}`;
    case "environment":
      return `environment variable ${source.name}`;
    case "local":
      return `local run: ${source.name}`;
    default:
      return `${source.layer} ${source.name ?? ""}`;
  }
}

function control(name, kind, setting) {
  const disabled = setting.readOnly;
  const id = `f-${name}`;
  if (kind === "bool") {
    const group = el("div", {
      className: "radios",
      attrs: { role: "radiogroup", "aria-labelledby": `${id}-label` },
    });
    for (const [label, value] of [
      ["true", true],
      ["false", false],
    ]) {
      const input = el("input", {
        type: "radio",
        name,
        value: String(value),
        checked: setting.value === value,
        disabled,
        id: `${id}-${label}`,
      });
      group.append(el("label", { htmlFor: input.id }, input, ` ${label}`));
    }
    return group;
  }
  if (kind === "security") {
    const select = el("select", { id, name, disabled });
    for (const [label, value] of [
      ["None", ""],
      ["TLS", "TLS"],
      ["STARTTLS", "STARTTLS"],
    ]) {
      select.append(el("option", { value, textContent: label, selected: setting.value === value }));
    }
    return select;
  }
  return el("input", {
    id,
    name,
    type: kind,
    value: String(setting.value ?? ""),
    disabled,
    autocomplete: kind === "password" ? "new-password" : "off",
  });
}

function renderSettings({ settings, store }) {
  $("store").textContent =
    `Settings from: defaults, then ${store}, then MM_EMAILSETTINGS_* environment variables.`;
  const fields = $("fields");
  fields.replaceChildren();
  for (const [name, label, kind, help] of FIELDS) {
    const setting = settings[name];
    const labelNode =
      kind === "bool"
        ? el("span", { className: "label", id: `f-${name}-label`, textContent: label })
        : el("label", { htmlFor: `f-${name}`, textContent: label });
    const source = el(
      "p",
      { className: "source" },
      "Source: ",
      el("b", { textContent: describeSource(setting.source) }),
    );
    const box = el(
      "div",
      { className: "control" },
      control(name, kind, setting),
      el("p", { className: "help", textContent: help }),
      source,
    );
    if (setting.readOnly) box.append(el("p", { className: "help locked", textContent: ENV_LOCKED }));
    fields.append(el("div", { className: "field", dataset: { setting: name } }, labelNode, box));
  }
}

function editedSettings() {
  const form = $("smtp-form");
  const out = {};
  for (const [name, , kind] of FIELDS) {
    if (kind === "bool") {
      const checked = form.querySelector(`input[name="${name}"]:checked`);
      if (checked) out[name] = checked.value === "true";
    } else {
      const input = form.elements.namedItem(name);
      if (!input) continue;
      out[name] = kind === "number" && input.value !== "" ? Number(input.value) : input.value;
    }
  }
  return out;
}

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

async function loadSettings() {
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

let selected;
async function showMail(id) {
  selected = id;
  const res = await fetch(`/api/mail/${id}`);
  if (!res.ok) return;
  const mail = await res.json();
  $("mail-detail").hidden = false;
  $("mail-subject").textContent = mail.subject || "(no subject)";
  // sandbox="" on the iframe: no scripts, no forms, no same-origin access, no navigation.
  $("mail-html").srcdoc = mail.html ?? "<p>(no HTML part)</p>";
  $("mail-text").textContent = mail.text;
  $("mail-headers").replaceChildren(
    ...mail.headers.map((h) =>
      el("tr", {}, el("td", { textContent: h.name }), el("td", { textContent: h.value })),
    ),
  );
  for (const row of $("mail-rows").querySelectorAll("tr[data-id]")) {
    row.setAttribute("aria-selected", String(row.dataset.id === String(id)));
  }
}

async function refreshMail() {
  const [mail, dead] = await Promise.all([
    fetch("/api/mail").then((r) => r.json()),
    fetch("/api/dead-letters").then((r) => r.json()),
  ]);
  const rows = mail.map((m) => {
    const link = el("a", { href: `#mail/${m.id}`, textContent: m.subject || "(no subject)" });
    link.addEventListener("click", (e) => {
      e.preventDefault();
      showMail(m.id);
    });
    return el(
      "tr",
      { dataset: { id: String(m.id) }, attrs: { "aria-selected": String(m.id === selected) } },
      el("td", { textContent: new Date(m.receivedAt).toLocaleTimeString() }),
      el("td", { textContent: m.to.join(", ") }),
      el("td", {}, link),
    );
  });
  $("mail-rows").replaceChildren(
    ...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 3, textContent: "No mail yet." }))]),
  );
  $("dead-letters").replaceChildren(
    ...(dead.length
      ? dead.map((d) =>
          el("li", {
            textContent: `${d.messageId} after ${d.receiveCount} receives: ${d.body.slice(0, 160)}`,
          }),
        )
      : [el("li", { textContent: "None." })]),
  );
}

let poll;
function show(view) {
  for (const name of ["smtp", "mail"]) {
    $(`view-${name}`).hidden = name !== view;
    const link = document.querySelector(`a[data-view="${name}"]`);
    if (name === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clearInterval(poll);
  if (view === "mail") {
    refreshMail();
    poll = setInterval(refreshMail, 2000);
  }
}

window.addEventListener("hashchange", () => show(location.hash.startsWith("#mail") ? "mail" : "smtp"));
show(location.hash.startsWith("#mail") ? "mail" : "smtp");
loadSettings();
