// rencai's own scripts: htmx CSRF header, row selection, the column chooser, "显示完整".
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page's <meta name="csrf-token">.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // A refused or failed htmx request shows a message instead of silently doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = status === 403 ? "您没有执行此操作的权限。" :
      status === 404 ? "记录不存在，或不在您的数据范围内。" : "操作失败，请稍后再试。";
    showMessage(text, "danger");
  });

  function showMessage(text, level) {
    var box = document.getElementById("messages");
    if (!box) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-" + level + " alert-dismissible";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "关闭");
    alert.appendChild(close);
    box.appendChild(alert);
  }

  // The header checkbox selects every row of the table it heads.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-rencai-select-all]")) { return; }
    var table = box.closest("table");
    if (!table) { return; }
    table.querySelectorAll('tbody input[type="checkbox"][name="pk"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });

  // Column chooser: move a column up or down; the form submits the checked ones in this order.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-rencai-move]") : null;
    if (!button) { return; }
    var item = button.closest("li");
    if (!item) { return; }
    if (button.getAttribute("data-rencai-move") === "up" && item.previousElementSibling) {
      item.parentNode.insertBefore(item, item.previousElementSibling);
    } else if (button.getAttribute("data-rencai-move") === "down" && item.nextElementSibling) {
      item.parentNode.insertBefore(item.nextElementSibling, item);
    }
  });

  // "显示完整": once the full value has come back, the button has done its work.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-rencai-reveal") && event.detail.successful) {
      elt.remove();
    }
  });
})();
