// Workspace-wide behaviour: send the CSRF token with every htmx request.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta && meta.content) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });
})();
