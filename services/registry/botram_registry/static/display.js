/* The public display: the session's board, live over Server-Sent Events
   (`/v1/sessions/{id}/display`, fed from the bus on every registry instance). Each call is
   announced with a chime and spoken in Bahasa Indonesia ("Nomor antrean K T P dua belas,
   silakan ke loket tiga") once sound is switched on (browsers allow sound only after a tap).
   Reconnects by itself; shows ticket numbers and desks only. */
(function () {
  "use strict";

  var root = document.querySelector("[data-display]");
  var sessionId = root.getAttribute("data-display");
  var connection = document.getElementById("display-connection");
  var soundButton = document.getElementById("sound-on");
  var RETRY_MS = 3000;
  var ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
              "sepuluh", "sebelas"];
  var sound = false;
  var audio = null;
  var source = null;

  /* A whole number in Indonesian words (up to 9999, enough for a day's tickets). */
  function words(n) {
    if (n < 12) return ONES[n];
    if (n < 20) return ONES[n - 10] + " belas";
    if (n < 100) return ONES[Math.floor(n / 10)] + " puluh" + (n % 10 ? " " + ONES[n % 10] : "");
    if (n < 200) return "seratus" + (n % 100 ? " " + words(n % 100) : "");
    if (n < 1000) return ONES[Math.floor(n / 100)] + " ratus" + (n % 100 ? " " + words(n % 100) : "");
    if (n < 2000) return "seribu" + (n % 1000 ? " " + words(n % 1000) : "");
    return words(Math.floor(n / 1000)) + " ribu" + (n % 1000 ? " " + words(n % 1000) : "");
  }

  /* "KTP-012" -> "K T P dua belas"; "Loket 3" -> "loket tiga". */
  function spoken(text) {
    return String(text).replace(/-/g, " ").replace(/\d+/g, function (digits) {
      return " " + words(parseInt(digits, 10)) + " ";
    }).replace(/\b([A-Z]{2,4})\b/g, function (letters) {
      return letters.split("").join(" ");
    }).replace(/\s+/g, " ").trim();
  }

  function sentence(call) {
    var desk = call.desk ? spoken(call.desk).toLowerCase() : "loket " + call.agency_label;
    if (desk.indexOf("loket") !== 0) desk = "loket " + desk;
    return "Nomor antrean " + spoken(call.number) + ", silakan ke " + desk;
  }

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = audio || new Context();
    [659.25, 523.25].forEach(function (frequency, index) {
      var start = audio.currentTime + index * 0.35;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.65);
    });
  }

  function announce(call) {
    if (!sound) return;
    chime();
    if (!window.speechSynthesis) return;
    var utterance = new window.SpeechSynthesisUtterance(sentence(call));
    utterance.lang = "id-ID";
    utterance.rate = 0.9;
    window.setTimeout(function () { window.speechSynthesis.speak(utterance); }, 800);
  }

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    return node;
  }

  function deskOf(call) {
    return (call.desk || "Loket") + " · " + call.agency_label;
  }

  function render(board) {
    var latest = document.getElementById("latest-call");
    latest.textContent = "";
    if (board.calls.length) {
      latest.appendChild(text("p", board.calls[0].number, "call-number"));
      latest.appendChild(text("p", deskOf(board.calls[0]), "call-desk"));
    } else {
      latest.appendChild(text("p", "Belum ada panggilan.", "call-none"));
    }
    var previous = document.getElementById("previous-calls");
    previous.textContent = "";
    board.calls.slice(1).forEach(function (call) {
      var item = document.createElement("li");
      item.appendChild(text("span", call.number, "call-number"));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(text("span", deskOf(call), "call-desk"));
      previous.appendChild(item);
    });
    var rows = document.getElementById("agency-waiting");
    rows.textContent = "";
    board.agencies.forEach(function (agency) {
      var row = document.createElement("tr");
      row.appendChild(text("td", agency.agency_label));
      row.appendChild(text("td", String(agency.waiting)));
      rows.appendChild(row);
    });
  }

  function connect() {
    source = new window.EventSource("/v1/sessions/" + encodeURIComponent(sessionId) + "/display");
    source.addEventListener("open", function () { connection.textContent = "Terhubung"; });
    source.addEventListener("board", function (event) { render(JSON.parse(event.data)); });
    source.addEventListener("call", function (event) { announce(JSON.parse(event.data)); });
    source.addEventListener("error", function () {
      connection.textContent = "Menyambung ulang…";
      /* The browser retries a dropped stream itself; one it gave up on we open again. */
      if (source.readyState === window.EventSource.CLOSED) {
        window.setTimeout(connect, RETRY_MS);
      }
    });
  }

  soundButton.addEventListener("click", function () {
    sound = !sound;
    soundButton.setAttribute("aria-pressed", String(sound));
    soundButton.textContent = sound ? "Matikan suara" : "Aktifkan suara";
    if (sound) {
      chime();
      if (window.speechSynthesis) window.speechSynthesis.cancel();
    }
  });

  window.botramDisplay = { spoken: spoken, sentence: sentence };
  connect();
})();
