// npm scripts put node_modules/.bin first on PATH, so the `node` devDependency (Node 24) runs
// them whatever Node the machine has. This guard makes a broken pin fail loudly, not subtly.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `Node ${process.versions.node} is running, but this project targets Node 24 (Lambda nodejs24.x).\n` +
      "Run it through npm (npm test, npm start) after `npm ci`, which installs Node 24 as a devDependency.",
  );
  process.exit(1);
}
