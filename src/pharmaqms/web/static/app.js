// The signature dialog: buttons with data-open-dialog open the <dialog> of that id;
// data-close-dialog closes the one it sits in. Everything else is plain HTML forms.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog && typeof dialog.showModal === "function") {
      dialog.showModal();
      const first = dialog.querySelector("input[type=password], textarea");
      if (first) first.focus();
    }
    return;
  }
  const closer = event.target.closest("[data-close-dialog]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) dialog.close();
  }
});

// A signed or submitted form is sent once: a double click must not sign twice.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method.toLowerCase() !== "post") return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
});

// A filter that applies on change (data-autosubmit on a select): the page's only need for a
// handler, kept here so that the pages carry no inline script (the CSP allows none).
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});

// The menu on a phone: hidden behind a button in the header, opened over the page.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (!toggle) return;
  const open = document.body.classList.toggle("menu-open");
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
});

// A print button (data-print): the page's print stylesheet leaves the buttons and forms out.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
