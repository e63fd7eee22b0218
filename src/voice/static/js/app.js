// Voice's only script of its own: small progressive enhancements; every page works without it.
(function () {
  "use strict";
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
