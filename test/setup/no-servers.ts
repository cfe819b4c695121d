/**
 * The unit project's rule, kept: a unit test starts no server (no moto_server, no SMTP server, no
 * HTTP stub, no local run), so the project runs anywhere Node does, Python or not. Listening on a
 * port fails the test at once, saying where it belongs (docs/development.md#test-projects).
 */
import { Server } from "node:net";

const REFUSAL =
  "a unit test starts no server: name this file *.integration.test.ts, and it runs in the integration project (docs/development.md#test-projects)";

// node:http, node:tls and smtp-server all listen through net.Server.
Server.prototype.listen = function listen(): never {
  throw new Error(REFUSAL);
};
