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

  // A list of occupations in a form (the filing's scope table, the multi-select of an appointment): <input
  // data-list-filter="ID"> narrows the items of #ID that carry data-code, data-name and data-initials, as the
  // reference pickers search: by code or its first digits (6-31), by name, or by pinyin initials (dg). Hidden items
  // keep their choice (a ticked level, a selected option) and are still sent.
  document.querySelectorAll("[data-list-filter]").forEach(function (input) {
    var list = document.getElementById(input.dataset.listFilter);
    var live = document.getElementById(input.dataset.listFilter + "-status");
    if (!list) { return; }
    input.closest(".list-filter").hidden = false;  // shown only where the script runs
    var items = list.querySelectorAll("[data-code]");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        var match = !q || item.dataset.code.indexOf(q) === 0 || item.dataset.name.toLowerCase().indexOf(q) !== -1 ||
          item.dataset.initials.indexOf(q) === 0;
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      if (live) { live.textContent = q ? input.dataset.countLabel.replace("%s", shown) : ""; }
    });
  });

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
