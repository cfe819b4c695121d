// The local console: Environment > SMTP as the reference System Console shows it, with each
// value's source, plus the local run's queue (how a burst drains under the embedded SMTP
// server's limits) and the mail that server captured. Plain DOM, no framework; every
// server-provided string goes in through textContent, never innerHTML.
//
// ES modules loaded by <script type="module">, no bundler: one module a page (smtp.js with
// settings-form.js, queue.js, mail.js) and dom.js; this one wires the pages and switches views.

import { $ } from "./dom.js";
import { refreshMail } from "./mail.js";
import { refreshQueue, wireQueuePage } from "./queue.js";
import { loadSettings, wireSmtpPage } from "./smtp.js";

wireSmtpPage();
wireQueuePage();

const VIEWS = ["smtp", "queue", "mail"];
let poll;
function show(view) {
  for (const name of VIEWS) {
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
  if (view === "queue") {
    refreshQueue();
    poll = setInterval(refreshQueue, 1000);
  }
}

const viewFromHash = () => VIEWS.find((name) => location.hash.startsWith(`#${name}`)) ?? "smtp";
window.addEventListener("hashchange", () => show(viewFromHash()));
show(viewFromHash());
loadSettings();
