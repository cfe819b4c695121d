// DOM helpers for the console's modules: an element by id, and an element built with its
// properties and children (never innerHTML).

export const $ = (id) => document.getElementById(id);

/** createElement with properties; `dataset` and `attrs` (aria-*, role) are set as attributes. */
export const el = (tag, { dataset = {}, attrs = {}, ...props } = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
};
