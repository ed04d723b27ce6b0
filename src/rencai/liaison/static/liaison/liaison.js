// The talent picker: a talent ticked among the search results joins the chosen ones, so the
// next search does not take it away (one talent only: it replaces the one chosen before).
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-talent-option]")) { return; }
    var picker = box.closest("[data-talent-picker]");
    if (!picker || !box.checked) { return; }
    var chosen = picker.querySelector("[data-talent-chosen]");
    if (picker.getAttribute("data-multiple") !== "1") {
      chosen.innerHTML = "";
    }
    box.removeAttribute("data-talent-option");
    chosen.appendChild(box.closest("label"));
  });
})();
