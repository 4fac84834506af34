/* Registry screens: what the front desk and the desk pages share. The open sessions come
   from the public `GET /v1/open-sessions` (no personal data). Exposed as `window.screens`. */
(function () {
  "use strict";

  var botram = window.botram;
  var CHOSEN = "botram.session";

  /* Places are stored as slugs: "cikarang-selatan" -> "Cikarang Selatan". */
  function named(slug) {
    return String(slug).split("-").map(function (word) {
      return word.charAt(0).toUpperCase() + word.slice(1);
    }).join(" ");
  }

  function placeOf(session) {
    var where = session.desa ? "Desa " + named(session.desa) + ", Kec. " + named(session.kecamatan)
      : "Kecamatan " + named(session.kecamatan);
    return "Botram " + where + " (" + session.date + ")";
  }

  /* Fill the session <select> with the sessions open now; `onChange(session)` runs with the
     one chosen (remembered for this tab). Answers the sessions by id. */
  function loadSessions(select, message, onChange) {
    var byId = {};
    return botram.api("GET", "/v1/open-sessions").then(function (result) {
      select.textContent = "";
      if (!result.ok) {
        botram.showAlert(message, result.message, "error");
        return byId;
      }
      if (!result.data.length) {
        botram.showAlert(message, "Belum ada sesi yang dibuka. Minta operator membuka sesi hari ini.", "warning");
      } else {
        botram.showAlert(message, "");
      }
      result.data.forEach(function (session) {
        byId[session.session_id] = session;
        var option = document.createElement("option");
        option.value = session.session_id;
        option.textContent = placeOf(session);
        select.appendChild(option);
      });
      var remembered = window.sessionStorage.getItem(CHOSEN);
      if (remembered && byId[remembered]) select.value = remembered;
      select.onchange = function () {
        window.sessionStorage.setItem(CHOSEN, select.value);
        onChange(byId[select.value]);
      };
      if (select.value) onChange(byId[select.value]);
      return byId;
    });
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  /* A checkbox with its label inside `container`. */
  function checkbox(container, name, value, text, options) {
    var opts = options || {};
    var wrapper = element("div", undefined, "checkbox");
    var input = document.createElement("input");
    input.type = "checkbox";
    input.name = name;
    input.value = value;
    input.id = name + "-" + value;
    input.checked = Boolean(opts.checked);
    input.disabled = Boolean(opts.disabled);
    var label = element("label", text);
    label.htmlFor = input.id;
    wrapper.appendChild(input);
    wrapper.appendChild(label);
    container.appendChild(wrapper);
    return input;
  }

  function fieldError(id, text) {
    var slot = document.getElementById(id);
    slot.textContent = text || "";
    slot.hidden = !text;
  }

  window.screens = {
    loadSessions: loadSessions,
    element: element,
    checkbox: checkbox,
    fieldError: fieldError
  };
})();
