// Behaviour that used to sit in inline attributes and <script> blocks, which the Content-Security-Policy
// (config.middleware.ContentSecurityPolicyMiddleware: script-src 'self') no longer runs.
(function () {
  "use strict";

  // <button data-confirm="…">: ask before submitting (irreversible actions).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // The header's 菜单 button on a phone: show or hide the role menus (templates/base.html, .role-nav.open).
  var toggle = document.getElementById("nav-toggle");
  var roleNav = document.getElementById("role-nav");
  if (toggle && roleNav) {
    toggle.addEventListener("click", function () {
      var open = roleNav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && roleNav.classList.contains("open")) {
        roleNav.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  // The new-plan form: show and send only the levels the filing allows for the chosen occupation (the server
  // refuses any other; without script every occupation's levels are listed under its name).
  var occupation = document.getElementById("plan-occupation");
  if (occupation) {
    var showLevels = function () {
      document.querySelectorAll(".levels-of").forEach(function (group) {
        var match = group.dataset.occupation === occupation.value;
        group.hidden = !match;
        group.querySelectorAll("input").forEach(function (box) { box.disabled = !match; });
      });
    };
    occupation.addEventListener("change", showLevels);
    showLevels();
  }

  // An export being built (#export data-reload-seconds): the page reloads itself until the file is ready. A script,
  // not <meta http-equiv="refresh">, which a screen reader cannot stop (axe: meta-refresh, WCAG 2.2.1).
  var exportCard = document.getElementById("export");
  if (exportCard && exportCard.dataset.reloadSeconds) {
    setTimeout(function () { window.location.reload(); }, 1000 * Number(exportCard.dataset.reloadSeconds));
  }

  // The issuance page: follow the batch until it is done (#batch-status data-batch / data-status, progress#bar).
  var status = document.getElementById("batch-status");
  if (status) {
    var bar = document.getElementById("bar");
    var poll = function () {
      fetch("/api/v1/certificates/batches/" + status.dataset.batch, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (b) {
          if (bar) { bar.value = b.percent; }
          status.dataset.status = b.status;
          status.textContent = b.status + " " + b.done + "/" + b.total;
          if (b.status === "queued" || b.status === "running") { setTimeout(poll, 1000); }
        });
    };
    if (status.dataset.status === "queued" || status.dataset.status === "running") { poll(); }
  }
})();
