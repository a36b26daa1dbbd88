// The admin forms work without this script; it only moves focus to the error summary after a failed submit,
// so keyboard and screen reader users hear at once what to correct.
const summary = document.getElementById("form-errors");
if (summary) summary.focus();
