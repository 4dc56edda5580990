// Upload island: sends the file as the raw request body (streamed to disk by the server),
// shows the upload's progress, then hands over to htmx polling of the import job.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const jobBox = document.getElementById("job");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = document.getElementById("upload-file").files[0];
    if (!file) return;
    const params = new URLSearchParams({ source: form.elements.source.value, filename: file.name });
    if (form.elements.profile.value) params.set("profile", form.elements.profile.value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl + "?" + params.toString());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((100 * e.loaded) / e.total);
        status.textContent = "Uploading: " + bar.value + "%";
      }
    });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 202) {
        bar.value = 100;
        status.textContent = "Uploaded; importing in the background.";
        jobBox.setAttribute("hx-get", "/imports/jobs/" + encodeURIComponent(body.id));
        jobBox.setAttribute("hx-trigger", "load");
        jobBox.setAttribute("hx-swap", "innerHTML");
        window.htmx.process(jobBox);
      } else {
        const message = body.error ? body.error.message : "the upload failed (" + xhr.status + ")";
        status.textContent = "Error: " + message;
      }
    });
    xhr.addEventListener("error", function () { status.textContent = "Error: the upload was interrupted."; });
    status.textContent = "Uploading…";
    xhr.send(file);
  });
})();
