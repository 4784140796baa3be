// SPDX-License-Identifier: MIT
// The shop's calendar: drag a booking onto a free slot to move it there. The drop posts the
// same form as the booking's Move page (its address, the slot, the page's form token), so the
// server does exactly what the page without JavaScript does, and the answer is its page.
(function () {
  "use strict";
  const table = document.querySelector("table.calendar");
  if (!table) return;
  let dragged = null;
  table.querySelectorAll(".slot.booked[data-move]").forEach(function (booking) {
    booking.addEventListener("dragstart", function (event) {
      dragged = booking;
      booking.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", booking.id);
    });
    booking.addEventListener("dragend", function () {
      booking.classList.remove("dragging");
      dragged = null;
    });
  });
  table.querySelectorAll(".slot.free[data-slot]").forEach(function (slot) {
    slot.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      slot.classList.add("drop-over");
    });
    slot.addEventListener("dragleave", function () {
      slot.classList.remove("drop-over");
    });
    slot.addEventListener("drop", function (event) {
      event.preventDefault();
      slot.classList.remove("drop-over");
      if (!dragged) return;
      const form = document.createElement("form");
      form.method = "post";
      form.action = dragged.dataset.move;
      form.hidden = true;
      for (const [name, value] of [["csrf_token", table.dataset.csrf], ["slot_id", slot.dataset.slot]]) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
      }
      document.body.appendChild(form);
      const news = document.getElementById("calendar-news");
      if (news) news.textContent = slot.textContent.trim();
      form.submit();
    });
  });
})();
