// Pharmacovigilance pages: after a refused submission, take the keyboard and the screen reader
// to the list of what to correct.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
});
