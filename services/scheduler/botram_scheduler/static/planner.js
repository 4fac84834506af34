/* The planner's calendar: month navigation, generation preview and confirmation, and a
   session's actions (open, close, move, change, cancel), all through the scheduler's JSON API. */
(function () {
  "use strict";

  var botram = window.botram;
  var MESSAGES = {
    "invalid-transition": "Sesi ini tidak dapat diubah seperti itu pada statusnya sekarang.",
    "date-in-past": "Tanggal itu sudah lewat. Pilih hari ini atau sesudahnya.",
    "end-before-start": "Jam selesai harus sesudah jam mulai.",
    "session-not-found": "Sesi ini tidak ditemukan. Muat ulang kalender.",
    "validation-error": "Isian belum lengkap atau belum benar."
  };
  var EDIT_MESSAGES = Object.assign({}, MESSAGES, {
    "session-ended": "Sesi yang sudah ditutup atau dibatalkan tidak dapat diubah.",
    "opened-session-keeps-services": "Sesi yang sudah dibuka tidak dapat mengurangi layanan.",
    "opened-session-quota-lowered": "Kuota sesi yang sudah dibuka hanya dapat dinaikkan.",
    "opened-session-fixed": "Tempat dan jam sesi yang sudah dibuka tidak dapat diubah. Pindahkan atau batalkan sesi.",
    "quota-for-unknown-service": "Kuota hanya dapat diisi untuk layanan yang dipilih.",
    "no-services": "Pilih paling sedikit satu layanan.",
    "unknown-service": "Layanan itu tidak dikenal. Muat ulang halaman."
  });
  var OPERATOR_ONLY = Object.assign({}, MESSAGES, {
    "role-required": "Membuka dan menutup sesi hanya dapat dilakukan oleh operator."
  });
  var ACTIONS = {
    preview: "akan dibuat",
    created: "dibuat",
    unchanged: "sudah ada",
    rescheduled: "dipindahkan sesuai aturan",
    kept: "dipertahankan (sudah diubah atau sudah berjalan)",
    past: "sudah lewat, tidak dibuat"
  };
  var LEVELS = { kecamatan: "Botram Kecamatan", desa: "Botram Desa" };

  var filter = document.getElementById("month-filter");
  var monthField = document.getElementById("filter-month");
  var dialog = document.getElementById("session-dialog");
  var sessionMessage = document.getElementById("session-message");
  var generateForm = document.getElementById("generate-form");
  var generateMessage = document.getElementById("generate-message");
  var preview = document.getElementById("preview");
  var editForm = document.getElementById("edit-form");
  var serviceRows = Array.prototype.slice.call(editForm.querySelectorAll("tr[data-service]"));
  var current = null;
  var opener = null;

  function refresh() {
    document.dispatchEvent(new CustomEvent("planner:refresh"));
  }

  /* Month navigation: step the month field, then reload the month view. */
  document.querySelectorAll("[data-month-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      var parts = (monthField.value || "").split("-").map(Number);
      if (parts.length !== 2 || !parts[0]) return;
      var when = new Date(parts[0], parts[1] - 1 + Number(button.getAttribute("data-month-step")), 1);
      monthField.value = when.getFullYear() + "-" + String(when.getMonth() + 1).padStart(2, "0");
      refresh();
    });
  });

  document.getElementById("month").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-session]");
    if (button) openSession(JSON.parse(button.getAttribute("data-session")), button);
  });

  function fact(name, text) {
    dialog.querySelector('[data-fact="' + name + '"]').textContent = text || "–";
  }

  function openSession(session, button) {
    current = session;
    opener = button;
    document.getElementById("session-title").textContent =
      session.level_label + " " + session.place + (session.level === "desa" ? ", Kec. " + session.kecamatan : "");
    fact("date", session.date_label);
    fact("hours", session.start + "–" + session.end + " WIB");
    fact("venue", session.venue);
    fact("status", session.status_label);
    fact("services", session.services + " layanan");
    fact("reason", session.status_reason);
    dialog.querySelectorAll("[data-when]").forEach(function (element) {
      element.hidden = element.getAttribute("data-when").split(" ").indexOf(session.status) < 0;
    });
    dialog.querySelectorAll("form").forEach(function (form) { form.reset(); clearErrors(form); });
    fillEdit(session);
    botram.showAlert(sessionMessage, "");
    dialog.showModal();
  }

  dialog.addEventListener("close", function () {
    if (opener && document.body.contains(opener)) opener.focus();
  });
  dialog.querySelector("[data-close-dialog]").addEventListener("click", function () { dialog.close(); });

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (slot) { slot.hidden = true; slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
  }

  /* A wrong field: said in words in its error slot (`<id>-error` unless given), marked invalid. */
  function fieldError(input, text, slot) {
    var where = slot || document.getElementById(input.id + "-error");
    where.textContent = text;
    where.hidden = false;
    input.setAttribute("aria-invalid", "true");
  }

  /* Required fields, said in words next to the field; the first wrong one gets the focus. */
  function checkRequired(form) {
    clearErrors(form);
    var first = null;
    form.querySelectorAll("[required]").forEach(function (input) {
      if (input.value.trim()) return;
      var label = form.querySelector('label[for="' + input.id + '"]').textContent;
      fieldError(input, label + " wajib diisi.");
      first = first || input;
    });
    if (first) first.focus();
    return !first;
  }

  /* After an action: say what happened, reload the month, close the dialog on success. */
  function done(result, success, messages) {
    if (!result.ok) {
      botram.showAlert(sessionMessage, botram.problemMessage(result.status, result.data, messages), "error");
      return;
    }
    dialog.close();
    botram.showAlert(generateMessage, "");
    announce(success);
    refresh();
  }

  function announce(text) {
    var status = document.getElementById("planner-status");
    botram.showAlert(status, text, "success");
  }

  /* One call on the current session (`path` after its URL), then `done`. */
  function sessionCall(method, path, body, success, messages) {
    botram.api(method, "/v1/sessions/" + current.id + path, body, { messages: messages })
      .then(function (result) { done(result, success, messages); });
  }

  /* A dialog form: its required fields checked, then `send(values, form)`. */
  function onSubmit(id, send) {
    document.getElementById(id).addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      if (!checkRequired(form)) return;
      send(botram.formValues(form), form);
    });
  }

  dialog.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.getAttribute("data-action");
      sessionCall("POST", "/" + action, undefined,
        action === "open" ? "Sesi dibuka." : "Sesi ditutup.", OPERATOR_ONLY);
    });
  });

  onSubmit("move-form", function (values) {
    sessionCall("POST", "/reschedule", { date: values.date, reason: values.reason.trim() },
      "Sesi dipindahkan ke " + values.date + ".", MESSAGES);
  });

  onSubmit("cancel-form", function (values) {
    sessionCall("POST", "/cancel", { reason: values.reason.trim() }, "Sesi dibatalkan.", MESSAGES);
  });

  /* Changing a session: a scheduled one anything; an opened one only more services and higher
     quotas (its offered services cannot be unticked, its quotas not lowered). */
  function serviceRow(row) {
    return {
      code: row.getAttribute("data-service"),
      check: row.querySelector("[data-service-check]"),
      quota: row.querySelector("[data-service-quota]")
    };
  }

  function fillEdit(session) {
    var opened = session.status === "opened";
    editForm.elements.venue.value = session.venue || "";
    editForm.elements.start.value = session.start_time;
    editForm.elements.end.value = session.end_time;
    serviceRows.forEach(function (row) {
      var s = serviceRow(row);
      var offered = session.codes.indexOf(s.code) >= 0;
      s.check.checked = offered;
      s.check.disabled = opened && offered;
      s.quota.value = offered ? session.quotas[s.code] : "";
      s.quota.disabled = !offered;
      s.quota.min = opened && offered ? session.quotas[s.code] : 1;
      row.hidden = session.level === "desa" && !offered && row.getAttribute("data-desa-eligible") !== "true";
    });
  }

  editForm.addEventListener("change", function (event) {
    var row = event.target.closest("tr[data-service]");
    if (!row || !event.target.hasAttribute("data-service-check")) return;
    var s = serviceRow(row);
    s.quota.disabled = !s.check.checked;
  });

  /* The PATCH body: only what differs from the session; field errors said next to the field
     (the first wrong one gets the focus), and then no body. */
  function editChanges(session) {
    var body = {};
    var quotas = {};
    var wrong = [];
    function wrongField(input, text, slot) { fieldError(input, text, slot); wrong.push(input); }
    if (session.status === "scheduled") {
      var venue = editForm.elements.venue.value.trim();
      if (venue !== (session.venue || "")) {
        if (venue) body.venue = venue;
        else wrongField(editForm.elements.venue, "Tempat tidak dapat dikosongkan.");
      }
      [["start", "start_time", "Jam mulai"], ["end", "end_time", "Jam selesai"]].forEach(function (field) {
        var input = editForm.elements[field[0]];
        if (!input.value) wrongField(input, field[2] + " wajib diisi.");
        else if (input.value !== session[field[1]]) body[field[0]] = input.value;
      });
    }
    var chosen = serviceRows.map(serviceRow).filter(function (s) { return s.check.checked; });
    if (!chosen.length) {
      var shown = serviceRows.filter(function (row) { return !row.hidden; })[0] || serviceRows[0];
      wrongField(serviceRow(shown).check, "Pilih paling sedikit satu layanan.",
        document.getElementById("edit-services-error"));
    }
    var codes = chosen.map(function (s) { return s.code; });
    var kept = session.codes.filter(function (code) { return codes.indexOf(code) >= 0; });
    var added = codes.filter(function (code) { return session.codes.indexOf(code) < 0; });
    if (chosen.length && (added.length || kept.length !== session.codes.length)) body.services = kept.concat(added);
    chosen.forEach(function (s) {
      var offered = session.codes.indexOf(s.code) >= 0;
      var before = session.quotas[s.code];
      var text = s.quota.value.trim();
      if (!text) {
        if (offered) wrongField(s.quota, "Kuota wajib diisi.");
        return;
      }
      var quota = Number(text);
      if (!Number.isInteger(quota) || quota < 1 || quota > 100000) {
        wrongField(s.quota, "Kuota harus bilangan bulat 1 sampai 100.000.");
      } else if (session.status === "opened" && offered && quota < before) {
        wrongField(s.quota, "Kuota hanya dapat dinaikkan: paling sedikit " + before + ".");
      } else if (!offered || quota !== before) {
        quotas[s.code] = quota;
      }
    });
    if (Object.keys(quotas).length) body.quotas = quotas;
    if (wrong.length) wrong[0].focus();
    return wrong.length ? null : body;
  }

  onSubmit("edit-form", function () {
    var body = editChanges(current);
    if (!body) return;
    if (!Object.keys(body).length) {
      botram.showAlert(sessionMessage, "Tidak ada perubahan untuk disimpan.", "info");
      return;
    }
    sessionCall("PATCH", "", body, "Sesi diubah.", EDIT_MESSAGES);
  });

  /* Generation: preview (dry run) first, then confirm the same range. */
  function generate(dryRun) {
    var values = botram.formValues(generateForm);
    return botram.api("POST", "/v1/schedule/generate",
      { from: values.from, to: values.to, dry_run: dryRun }, { messages: MESSAGES, timeoutMs: 60000 });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function showPreview(result) {
    var rows = document.getElementById("preview-rows");
    rows.textContent = "";
    var sessions = result.sessions.concat(result.moves.map(function (move) {
      return { date: move.date, level: move.level, kecamatan: move.kecamatan, desa: move.desa,
               action: "moved", reason: move.reason, moved_to: move.moved_to };
    }));
    sessions.sort(function (a, b) { return a.date < b.date ? -1 : a.date > b.date ? 1 : 0; });
    sessions.forEach(function (s) {
      var row = document.createElement("tr");
      cell(row, s.date);
      cell(row, LEVELS[s.level] || s.level);
      cell(row, s.desa ? s.desa + ", Kec. " + s.kecamatan : (s.kecamatan || "–"));
      cell(row, s.action === "moved"
        ? "tidak dijadwalkan: " + s.reason + (s.moved_to ? " (dipindah ke " + s.moved_to + ")" : "")
        : ACTIONS[s.action] || s.action);
      rows.appendChild(row);
    });
    var fresh = result.sessions.filter(function (s) { return s.action === "preview"; }).length;
    document.getElementById("preview-caption").textContent =
      "Pratinjau " + result.from + " sampai " + result.to + ": " + fresh + " sesi baru";
    preview.hidden = false;
    botram.showAlert(generateMessage, fresh
      ? "Periksa pratinjau, lalu tekan Konfirmasi untuk menyimpan " + fresh + " sesi."
      : "Tidak ada sesi baru pada rentang ini.", "info");
    document.getElementById("generate-confirm").hidden = fresh === 0;
  }

  generateForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!checkRequired(generateForm)) return;
    generate(true).then(function (result) {
      if (!result.ok) {
        preview.hidden = true;
        botram.showAlert(generateMessage, result.message, "error");
        return;
      }
      showPreview(result.data);
    });
  });

  document.getElementById("generate-confirm").addEventListener("click", function () {
    generate(false).then(function (result) {
      if (!result.ok) {
        botram.showAlert(generateMessage, result.message, "error");
        return;
      }
      preview.hidden = true;
      botram.showAlert(generateMessage, result.data.created + " sesi dibuat, " +
        result.data.rescheduled + " dipindahkan.", "success");
      refresh();
    });
  });

  document.getElementById("generate-discard").addEventListener("click", function () {
    preview.hidden = true;
    botram.showAlert(generateMessage, "");
  });

  document.addEventListener("botram:signed-out", function () {
    document.getElementById("month").textContent = "";
    preview.hidden = true;
    if (dialog.open) dialog.close();
  });

  filter.addEventListener("htmx:responseError", function () {
    document.getElementById("month").textContent = "Kalender tidak dapat dimuat. Coba lagi.";
  });
})();
