// Voice's only script of its own: small progressive enhancements; every page works without it.
(function () {
  "use strict";
  // "Copy the code": buttons with data-copy="<selector>" copy that element's text (shown only with a script).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied") || button.textContent;
      });
    });
  });
  // Close the <details> menu when a link inside it is followed or the visitor clicks elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target) || event.target.closest("a")) menu.removeAttribute("open");
    });
  });
  // Upload progress for forms htmx sends as multipart (a file attached): fill the form's <progress>.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var bar = form ? form.querySelector("progress[data-upload-progress]") : null;
    if (!bar || !event.detail.lengthComputable || !event.detail.total) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
})();
