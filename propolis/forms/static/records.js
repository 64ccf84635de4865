// Record forms, made better where JavaScript runs (they submit as plain HTML forms
// without it): table rows added and removed in place, lookup comboboxes that search
// as you type, dependent selects refreshed through htmx, file uploads checked and
// previewed, and "use my location". The markers are described in
// propolis/forms/widgets.py.
(function () {
  "use strict";

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  // -- record actions that ask first (data-confirm: the action's question) ------
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // -- table rows ---------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-table-add]");
    if (add) {
      var table = add.closest("[data-table]");
      var template = table.querySelector("template[data-table-template]");
      var index = table.dataset.nextIndex;
      var html = template.innerHTML.split("__index__").join(index);
      var body = table.querySelector("[data-table-rows]");
      body.insertAdjacentHTML("beforeend", html);
      table.dataset.nextIndex = String(Number(index) + 1);
      var first = body.lastElementChild.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest("[data-table-remove]");
    if (remove) {
      var row = remove.closest("[data-row]");
      var holder = row.closest("[data-table]");
      row.remove();
      holder.querySelector("[data-table-add]").focus();
      return;
    }
    var drop = event.target.closest("[data-file-remove]");
    if (drop) {
      var files = drop.closest("[data-files]");
      drop.closest("li").remove();
      files.querySelector("input[type=file]").focus();
      return;
    }
    var geo = event.target.closest("[data-geolocate]");
    if (geo) locate(geo);
    var option = event.target.closest(".lookup [role=option]");
    if (option) choose(option.closest(".lookup"), option);
  });

  // -- lookups (the ARIA combobox pattern) -------------------------------------------
  function lookupUrl(box) {
    var form = box.closest("form");
    var pattern = (form && form.dataset.lookupUrl) || "/o/__object__/lookup";
    return pattern.replace("__object__", encodeURIComponent(box.dataset.lookup));
  }

  function options(box) {
    return Array.prototype.slice.call(box.querySelectorAll("[role=option]"));
  }

  function close(box) {
    var list = box.querySelector("[role=listbox]");
    var input = box.querySelector("[role=combobox]");
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function choose(box, option) {
    var input = box.querySelector("[role=combobox]");
    box.querySelector("[data-lookup-value]").value = option.dataset.value;
    input.value = option.textContent;
    input.dataset.chosen = option.textContent;
    close(box);
    input.focus();
  }

  function highlight(box, step) {
    var items = options(box);
    if (!items.length) return;
    var input = box.querySelector("[role=combobox]");
    var current = items.findIndex(function (o) {
      return o.getAttribute("aria-selected") === "true";
    });
    var next = (current + step + items.length) % items.length;
    if (current < 0) next = step > 0 ? 0 : items.length - 1;
    items.forEach(function (o, i) { o.setAttribute("aria-selected", String(i === next)); });
    input.setAttribute("aria-activedescendant", items[next].id);
    items[next].scrollIntoView({block: "nearest"});
  }

  var timers = new WeakMap();

  function search(box) {
    var input = box.querySelector("[role=combobox]");
    var list = box.querySelector("[role=listbox]");
    htmx.ajax("GET", lookupUrl(box), {
      source: input, target: list, swap: "innerHTML",
      values: {q: input.value, for: input.id}
    }).then(function () {
      if (!options(box).length) {
        list.innerHTML = "";
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = box.dataset.noMatch || "";
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.getAttribute("role") !== "combobox") return;
    var box = input.closest(".lookup");
    if (input.value !== input.dataset.chosen) {
      // what is typed is a search, not a choice: the record is chosen from the list
      box.querySelector("[data-lookup-value]").value = "";
    }
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(function () { search(box); }, 200));
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (input.getAttribute("role") !== "combobox") return;
    var box = input.closest(".lookup");
    var open = input.getAttribute("aria-expanded") === "true";
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) { search(box); return; }
      highlight(box, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && open) {
      var active = box.querySelector("[role=option][aria-selected=true]");
      if (active) { event.preventDefault(); choose(box, active); }
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(box);
    }
  });

  document.addEventListener("focusout", function (event) {
    var box = event.target.closest && event.target.closest(".lookup");
    if (!box) return;
    setTimeout(function () {
      if (!box.contains(document.activeElement)) close(box);
    }, 150);
  });

  // -- dependent selects and the parts of an area ---------------------------------------
  function refresh(element) {
    var form = element.closest("form");
    if (!form || !form.dataset.optionsUrl) return;
    var values = {};
    (element.dataset.optionsInclude || "").split(" ").forEach(function (name) {
      if (!name) return;
      var chosen = [];
      form.querySelectorAll("[name='" + name + "']").forEach(function (input) {
        if ((input.type !== "checkbox" && input.type !== "radio") || input.checked) {
          Array.prototype.forEach.call(input.selectedOptions || [input], function (o) {
            chosen.push(o.value);
          });
        }
      });
      values[name] = chosen.length > 1 ? chosen : (chosen[0] || "");
    });
    if (element.dataset.part) values.part = element.dataset.part;
    var url = form.dataset.optionsUrl.replace("__field__",
                                              encodeURIComponent(element.dataset.options));
    var id = element.id;
    htmx.ajax("GET", url, {source: element, target: element, swap: "outerHTML",
                           values: values}).then(function () {
      var fresh = document.getElementById(id);
      if (fresh) dependents(fresh).forEach(refresh);
    });
  }

  function dependents(element) {
    var root = element.closest("[role=group][id]") || element;
    var ids = [element.id, root.id];
    return Array.prototype.filter.call(
      document.querySelectorAll("[data-depends-on]"), function (child) {
        return child.dataset.dependsOn.split(" ").some(function (id) {
          return ids.indexOf(id) >= 0;
        });
      });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches("input[type=file][data-upload]")) { upload(input); return; }
    if (input.matches("select, input[type=checkbox]")) dependents(input).forEach(refresh);
  });

  // -- files -------------------------------------------------------------------------
  function csrf() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function accepted(file, accept) {
    if (!accept) return true;
    return accept.split(",").some(function (rule) {
      rule = rule.trim().toLowerCase();
      if (rule.charAt(0) === ".") return file.name.toLowerCase().endsWith(rule);
      if (rule.endsWith("/*")) return file.type.indexOf(rule.slice(0, -1)) === 0;
      return file.type === rule;
    });
  }

  function listItem(input, id, name) {
    var item = document.createElement("li");
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.dataset.upload;
    hidden.value = id;
    var link = document.createElement("a");
    link.href = "/api/v1/files/" + encodeURIComponent(id);
    if (input.dataset.image === "true") {
      var img = document.createElement("img");
      img.src = link.href;
      img.alt = name;
      link.appendChild(img);
    } else {
      link.textContent = name;
    }
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "small";
    remove.dataset.fileRemove = "";
    remove.textContent = (input.dataset.remove || "") + " " + name;
    item.append(hidden, link, " ", remove);
    return item;
  }

  function upload(input) {
    var box = input.closest("[data-files]");
    var status = box.querySelector(".file-status");
    var list = box.querySelector(".file-list");
    var limit = Number(input.dataset.maxSizeMb) * 1024 * 1024;
    var most = Number(input.dataset.maxCount);
    var chosen = Array.prototype.slice.call(input.files);
    var problems = [];
    if (list.children.length + chosen.length > most) {
      problems.push(fill(input.dataset.tooMany, {count: most}));
      chosen = [];
    }
    chosen = chosen.filter(function (file) {
      if (!accepted(file, input.getAttribute("accept"))) {
        problems.push(fill(input.dataset.wrongType, {name: file.name}));
        return false;
      }
      if (file.size > limit) {
        problems.push(fill(input.dataset.tooBig,
                           {name: file.name, mb: input.dataset.maxSizeMb}));
        return false;
      }
      return true;
    });
    status.textContent = problems.join(" ");
    status.classList.toggle("error", problems.length > 0);
    input.value = "";
    chosen.forEach(function (file) {
      var body = new FormData();
      body.append("file", file);
      status.textContent = input.dataset.uploading;
      fetch("/api/v1/files", {method: "POST", body: body, credentials: "same-origin",
                              headers: {"X-CSRF-Token": csrf()}})
        .then(function (response) {
          return response.json().then(function (json) {
            if (!response.ok) throw new Error((json.error && json.error.message) || "");
            return json;
          });
        })
        .then(function (json) {
          list.appendChild(listItem(input, json.id, json.name));
          status.textContent = problems.join(" ");
        })
        .catch(function (error) {
          problems.push(fill(input.dataset.failed, {name: file.name}) + " " + error.message);
          status.textContent = problems.join(" ");
          status.classList.add("error");
        });
    });
  }

  // -- location ------------------------------------------------------------------------
  function locate(button) {
    var id = button.dataset.geolocate;
    var status = button.parentNode.querySelector(".geo-status");
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById(id + "-lat").value = position.coords.latitude.toFixed(6);
      document.getElementById(id + "-lng").value = position.coords.longitude.toFixed(6);
      status.textContent = "✓";
    }, function (error) {
      status.textContent = error.message;
    }, {timeout: 10000});
  }
})();
