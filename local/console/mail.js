// The Captured mail page: the messages the embedded SMTP server accepted, one shown in full
// (its HTML in a sandboxed iframe), and the dead-letter list.

import { $, el } from "./dom.js";

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

export async function refreshMail() {
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
            textContent: `${d.messageId} after ${d.receiveCount} receives (${d.code}: ${d.reason}): ${d.body.slice(0, 160)}`,
          }),
        )
      : [el("li", { textContent: "None." })]),
  );
}
