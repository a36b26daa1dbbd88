// The field limits, stated once in smartrlp/core/fields.py and put on every page by base.html (`#field-limits`):
// the same numbers the templates write into `maxlength` and the server checks.
export const LIMITS = Object.freeze(JSON.parse(document.getElementById("field-limits")?.textContent || "{}"));
