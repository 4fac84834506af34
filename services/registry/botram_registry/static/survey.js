/* The satisfaction survey of a served ticket: nine answers, sent once
   (POST /v1/ticket-status/{code}/survey). No library: a slow phone loads it at once. */
(function () {
  "use strict";

  var form = document.getElementById("survey-form");
  if (!form) return;
  var error = document.getElementById("survey-error");
  var thanks = document.getElementById("survey-thanks");
  var REFUSALS = {
    "survey-already-answered": "Survei untuk tiket ini sudah diisi. Terima kasih.",
    "survey-not-open": "Survei dapat diisi setelah layanan untuk tiket ini selesai."
  };

  function done() {
    form.hidden = true;
    thanks.hidden = false;
    thanks.focus && thanks.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var answers = {}, missing = [];
    form.querySelectorAll("fieldset").forEach(function (fieldset) {
      var key = fieldset.id.replace("survey-", "");
      var chosen = fieldset.querySelector("input:checked");
      fieldset.classList.toggle("survey-missing", !chosen);
      if (chosen) answers[key] = Number(chosen.value); else missing.push(fieldset);
    });
    if (missing.length) {
      error.textContent = "Mohon jawab semua pertanyaan (" + missing.length + " belum dijawab).";
      error.hidden = false;
      missing[0].querySelector("input").focus();
      return;
    }
    var button = document.getElementById("survey-submit");
    button.disabled = true;
    error.hidden = true;
    window.fetch(form.getAttribute("data-survey-url"), {
      method: "POST", credentials: "omit",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(answers)
    }).then(function (response) {
      if (response.ok) return done();
      return response.json().then(function (problem) {
        var code = (problem.type || "").split("/").pop();
        if (code === "survey-already-answered") return done();
        error.textContent = REFUSALS[code] || "Jawaban belum terkirim. Silakan coba lagi.";
        error.hidden = false;
        button.disabled = false;
      });
    }, function () {
      error.textContent = "Tidak ada sambungan. Silakan coba lagi.";
      error.hidden = false;
      button.disabled = false;
    });
  });
})();
