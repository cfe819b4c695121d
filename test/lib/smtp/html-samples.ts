/**
 * HTML for the text-part converter's tests and its benchmark (test/bench/html-to-text.ts): a
 * realistic notification, and inputs shaped to find work that grows faster than the input.
 * No test framework here, so the benchmark can import it.
 */

/** A notification as chat servers send them: a table layout, entities, a list, links, a logo. */
export const NOTIFICATION_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>New mention</title>
<style>body { font-family: sans-serif; } .button { background: #1c58d9; }</style>
</head>
<body>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0">
  <tr>
    <td align="center">
      <table role="presentation" width="600">
        <tr><td><img src="https://chat.example.com/static/logo.png" alt="Chat" width="120"></td></tr>
        <tr>
          <td>
            <h1>Ren&eacute;e mentioned you in ~town-square</h1>
            <p>Hi Alex, here&#8217;s what you missed while you were away:</p>
            <ul>
              <li>3 new messages in <b>Town Square</b></li>
              <li>1 reply to your thread &ldquo;Q3 plan&rdquo;</li>
            </ul>
            <p>Tea&nbsp;&amp;&nbsp;biscuits at 4&nbsp;pm.</p>
            <p><a class="button" href="https://chat.example.com/team/pl/abc123">View message</a></p>
          </td>
        </tr>
        <tr><td>Status:</td><td>Away</td></tr>
        <tr>
          <td style="font-size:12px">
            <p>You&#8217;re receiving this because of your notification settings:
            <a href="https://chat.example.com/settings/notifications">https://chat.example.com/settings/notifications</a></p>
            <p>&copy; 2026 Example&nbsp;Inc. <img src="https://t.example.com/open.gif" width="1" height="1" alt=""></p>
          </td>
        </tr>
      </table>
    </td>
  </tr>
</table>
</body>
</html>
`;

/** `unit` repeated to at least `bytes` bytes (units are ASCII). */
export const repeatTo = (unit: string, bytes: number): string => unit.repeat(Math.ceil(bytes / unit.length));

/**
 * Units no notification is made of, each repeated to find super-linear work: unclosed links (the
 * old converter's link pattern took 198 s on 86 KB of them), a run of `<` (tag starts that never
 * become tags), and unclosed `<div>` (the parser's work grows with the nesting).
 */
export const HOSTILE_UNITS = {
  'unclosed <a href="x">': '<a href="x">',
  "a run of <": "<",
  "nested <div>": "<div>",
} as const;
