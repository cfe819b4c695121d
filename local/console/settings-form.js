// The SMTP settings form: each setting's control, label, help and source (environment values
// read-only), as the reference System Console shows them, the values as edited, and what
// changed since they were loaded (what Save writes). One file a little over 250 lines: the form's
// controls and its record of changes read the same rows.

import { $, el } from "./dom.js";

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
  // The product's own (EmailTransportSettings), under the reference's.
  [
    "Transport",
    "Transport:",
    ["smtp", "ses"],
    "smtp: as above. ses: Amazon SES's API, signed with the function's role.",
  ],
  [
    "SMTPAuthMethod",
    "SMTP Sign-in Method:",
    ["password", "oauth2-microsoft", "oauth2-google", "oauth2-generic"],
    "password: the username and password above. oauth2-*: an access token (XOAUTH2) for the username.",
  ],
  [
    "OAuth2TenantId",
    "OAuth2 Tenant ID:",
    "text",
    "oauth2-microsoft: the directory (tenant) ID, or a domain of the tenant.",
  ],
  [
    "OAuth2ClientId",
    "OAuth2 Client ID:",
    "text",
    "oauth2-microsoft, oauth2-generic: the application (client) ID.",
  ],
  [
    "OAuth2ClientSecret",
    "OAuth2 Client Secret:",
    "password",
    "oauth2-microsoft, oauth2-generic: the client secret.",
  ],
  [
    "OAuth2ClientCertificate",
    "OAuth2 Client Certificate:",
    "secret-text",
    "oauth2-microsoft: PEM, the private key and the certificate registered with the app.",
  ],
  [
    "OAuth2ServiceAccountKey",
    "OAuth2 Service Account Key:",
    "secret-text",
    "oauth2-google: the service account's JSON key file.",
  ],
  [
    "OAuth2TokenEndpoint",
    "OAuth2 Token Endpoint:",
    "text",
    "Empty: the provider's own (locally: the embedded one).",
  ],
  ["OAuth2Scope", "OAuth2 Scope:", "text", "Empty: the provider's own."],
  [
    "SESConfigurationSet",
    "SES Configuration Set:",
    "text",
    "ses: the configuration set every message is sent with.",
  ],
  ["SESMessageTags", "SES Message Tags:", "text", "ses: name=value,name=value."],
];
const ENV_LOCKED =
  "This setting has been set through an environment variable. It cannot be changed through the System Console.";

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
  if (Array.isArray(kind)) {
    const select = el("select", { id, name, disabled });
    for (const value of kind) {
      select.append(el("option", { value, textContent: value, selected: setting.value === value }));
    }
    return select;
  }
  if (kind === "secret-text") {
    return el("textarea", {
      id,
      name,
      disabled,
      rows: 3,
      value: String(setting.value ?? ""),
      spellcheck: false,
    });
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

/** The settings as last loaded, by name (value, source, readOnly): what a Save compares with. */
let loaded = {};

export function renderSettings({ settings, store }) {
  loaded = settings;
  $("store").textContent =
    `Settings from: defaults, then ${store}, then MM_EMAILSETTINGS_* and MM_EMAILTRANSPORTSETTINGS_* environment variables.`;
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

export function editedSettings() {
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

/** What the form changed from the loaded settings, by name; a setting the environment locks never. */
export function changedSettings() {
  const out = {};
  for (const [name, value] of Object.entries(editedSettings())) {
    const was = loaded[name];
    if (!was || was.readOnly) continue;
    if (JSON.stringify(value) !== JSON.stringify(was.value ?? "")) out[name] = value;
  }
  return out;
}

/** Whether a setting holds a stored value (a secret shows as the mask, an unset one as ""). */
export const isStored = (name) => (loaded[name]?.value ?? "") !== "";
