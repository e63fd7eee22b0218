// Voice's only script of its own: small progressive enhancements; every page works without it.
(function () {
  "use strict";
  // Close the <details> menu when a link inside it is followed or the visitor clicks elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target) || event.target.closest("a")) menu.removeAttribute("open");
    });
  });
})();
