/* Journal: small progressive enhancements. The site works without JavaScript. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") {
      fn();
    } else {
      document.addEventListener("DOMContentLoaded", fn);
    }
  }

  // Mobile navigation toggle.
  function initNav() {
    var toggle = document.querySelector("[data-toggle='nav']");
    var nav = document.getElementById("nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Dismissible flash messages; success messages fade by themselves.
  function initAlerts() {
    document.querySelectorAll("[data-dismiss='alert']").forEach(function (button) {
      button.addEventListener("click", function () {
        dismiss(button.closest(".alert"));
      });
    });
    document.querySelectorAll(".alert-success").forEach(function (alert) {
      window.setTimeout(function () { dismiss(alert); }, 6000);
    });
  }

  function dismiss(alert) {
    if (!alert) return;
    alert.classList.add("fade-out");
    window.setTimeout(function () { alert.remove(); }, 350);
  }

  // Forms that ask before they submit (deleting an entry).
  function initConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  // A live character count under the entry body, and a draft kept in localStorage.
  function initComposer() {
    var body = document.querySelector(".composer textarea");
    var title = document.querySelector(".composer input[name='title']");
    if (!body) return;
    var key = "journal:draft";
    var counter = document.createElement("div");
    counter.className = "form-text";
    body.parentNode.appendChild(counter);

    function update() {
      counter.textContent = body.value.length + " / 20000";
      try {
        window.localStorage.setItem(key, JSON.stringify({ title: title ? title.value : "", body: body.value }));
      } catch (e) { /* private mode: no drafts */ }
    }

    try {
      var draft = JSON.parse(window.localStorage.getItem(key) || "null");
      if (draft && !body.value) {
        body.value = draft.body || "";
        if (title && !title.value) title.value = draft.title || "";
      }
    } catch (e) { /* a broken draft is dropped */ }

    body.addEventListener("input", update);
    if (title) title.addEventListener("input", update);
    body.form.addEventListener("submit", function () {
      try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
    });
    update();
  }

  // Ctrl/Cmd+Enter saves the entry.
  function initShortcuts() {
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
        var form = document.activeElement && document.activeElement.form;
        if (form) {
          event.preventDefault();
          form.requestSubmit ? form.requestSubmit() : form.submit();
        }
      }
    });
  }

  ready(function () {
    initNav();
    initAlerts();
    initConfirm();
    initComposer();
    initShortcuts();
  });
})();
