// SPDX-License-Identifier: MIT
// The job card's signature pad: draw with a finger, pen or mouse on the canvas; the drawing
// goes with the form as a PNG data URL in the hidden "signature" field. Without JavaScript
// (or without drawing), the typed technician's name counts as the signature.
(function () {
  "use strict";
  function setUp(canvas) {
    var form = canvas.closest("form");
    var field = form.querySelector("[data-signature-field]");
    var actions = form.querySelector("[data-signature-actions]");
    var state = form.querySelector("[data-signature-state]");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    canvas.hidden = false;
    actions.hidden = false;
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#14203c";
    function at(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height),
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      var p = at(event);
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = at(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      drawn = true;
      event.preventDefault();
    });
    function stop() {
      if (!drawing) return;
      drawing = false;
      if (drawn) state.textContent = field.dataset.signedWords;
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    form.querySelector("[data-signature-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
      state.textContent = "";
    });
    form.addEventListener("submit", function () {
      field.value = drawn ? canvas.toDataURL("image/png") : "";
    });
  }
  document.querySelectorAll("canvas[data-signature-pad]").forEach(setUp);
})();
