// Pickers for an occupation or a region among thousands: an ARIA 1.2 combobox (type a code, part of a name or
// pinyin initials; arrow keys, Enter, Escape) backed by the paginated reference API, and for regions a
// province → prefecture → county cascade. Progressive enhancement: without this script the field is a plain
// text input that takes a code, and the server checks it.
(function () {
  "use strict";

  var LIMIT = 10;
  var seq = 0;

  function api(url, params) {
    var query = Object.keys(params)
      .filter(function (k) { return params[k] !== "" && params[k] !== null && params[k] !== undefined; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); })
      .join("&");
    return fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + query, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function extraParams(input) {
    var out = {};
    (input.dataset.params || "").split("&").forEach(function (pair) {
      if (!pair) { return; }
      var kv = pair.split("=");
      out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || "");
    });
    return out;
  }

  function labelOf(kind, item) {
    return kind === "region" ? item.full_name + " " + item.code : item.code + " " + item.name;
  }

  function hintOf(kind, item) {
    if (kind === "occupation") {
      var parts = [];
      if (!item.has_standard) { parts.push("无施行中的国家职业技能标准"); }
      if (item.announced_year) { parts.push(item.announced_year + "年新职业"); }
      if (!item.active) { parts.push("已停用"); }
      return parts.join(" · ");
    }
    return item.active ? "" : "已撤销";
  }

  function Picker(input) {
    var self = this;
    var id = input.id || "picker-" + (++seq);
    input.id = id;
    this.input = input;
    this.kind = input.dataset.picker;
    this.url = input.dataset.api;
    this.params = extraParams(input);

    // The submitted value is the code; the visible box shows "code name" and takes what is typed.
    this.hidden = document.createElement("input");
    this.hidden.type = "hidden";
    this.hidden.name = input.name;
    this.hidden.value = input.value;
    input.removeAttribute("name");
    input.parentNode.insertBefore(this.hidden, input);
    if (input.dataset.display) { input.value = input.dataset.display; }

    this.list = document.createElement("ul");
    this.list.id = id + "-list";
    this.list.className = "picker-list";
    this.list.setAttribute("role", "listbox");
    this.list.hidden = true;
    this.status = document.createElement("span");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", this.status);
    input.insertAdjacentElement("afterend", this.list);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("autocomplete", "off");

    this.items = [];
    this.active = -1;
    this.timer = null;
    this.asked = 0;

    input.addEventListener("input", function () {
      // Until an option is picked, what was typed is submitted as it is (a code typed in full works).
      self.hidden.value = input.value.trim();
      clearTimeout(self.timer);
      self.timer = setTimeout(function () { self.search(); }, 150);
    });
    input.addEventListener("keydown", function (e) { self.key(e); });
    input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    this.list.addEventListener("mousedown", function (e) {
      var li = e.target.closest("li[data-index]");
      if (li) { e.preventDefault(); self.pick(Number(li.dataset.index)); }
    });
    if (this.kind === "region" && input.dataset.cascade !== "off") { this.cascade(); }
  }

  Picker.prototype.search = function () {
    var self = this;
    var text = this.input.value.trim();
    if (!text) { this.close(); return; }
    var ticket = ++this.asked;
    var params = Object.assign({ q: text, limit: LIMIT }, this.params);
    api(this.url, params).then(function (page) {
      if (ticket !== self.asked) { return; } // a later keystroke's answer wins
      self.show(page.items, page.count);
    }).catch(function () {
      self.status.textContent = "查询失败,请直接输入编码";
    });
  };

  Picker.prototype.show = function (items, count) {
    var self = this;
    this.items = items;
    this.active = -1;
    this.list.textContent = "";
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = self.list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.index = i;
      li.dataset.code = item.code;
      li.textContent = labelOf(self.kind, item);
      var hint = hintOf(self.kind, item);
      if (hint) {
        var small = document.createElement("span");
        small.className = "muted small";
        small.textContent = " " + hint;
        li.appendChild(small);
      }
      self.list.appendChild(li);
    });
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "没有匹配的结果";
      this.list.appendChild(none);
    }
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.removeAttribute("aria-activedescendant");
    this.status.textContent = count > items.length
      ? "共" + count + "个结果,显示前" + items.length + "个;可继续输入缩小范围"
      : count + "个结果";
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  };

  Picker.prototype.move = function (delta) {
    if (!this.items.length) { return; }
    var n = this.items.length;
    this.active = (this.active + delta + n) % n;
    var self = this;
    Array.prototype.forEach.call(this.list.children, function (li, i) {
      li.setAttribute("aria-selected", i === self.active ? "true" : "false");
    });
    var current = this.list.children[this.active];
    this.input.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  };

  Picker.prototype.key = function (e) {
    var open = !this.list.hidden;
    if (e.key === "ArrowDown") { e.preventDefault(); if (!open) { this.search(); } else { this.move(1); } }
    else if (e.key === "ArrowUp") { e.preventDefault(); if (open) { this.move(-1); } }
    else if (e.key === "Enter" && open && this.active >= 0) { e.preventDefault(); this.pick(this.active); }
    else if (e.key === "Escape" && open) { e.preventDefault(); this.close(); }
  };

  Picker.prototype.set = function (item) {
    this.hidden.value = item ? item.code : "";
    this.input.value = item ? labelOf(this.kind, item) : "";
    this.status.textContent = item ? "已选择 " + labelOf(this.kind, item) : "";
    this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
  };

  Picker.prototype.pick = function (index) {
    this.set(this.items[index]);
    this.close();
  };

  // Regions: also choose province → prefecture → county from lists (each level fetched when needed).
  Picker.prototype.cascade = function () {
    var self = this;
    var box = document.createElement("div");
    box.className = "picker-cascade";
    var names = ["省级", "地市级", "县区级"];
    var selects = names.map(function (name, depth) {
      var label = document.createElement("label");
      label.className = "small";
      label.textContent = name;
      var select = document.createElement("select");
      select.dataset.depth = depth;
      select.disabled = true;
      label.appendChild(select);
      box.appendChild(label);
      return select;
    });
    this.status.insertAdjacentElement("afterend", box);
    // `within`: the regions this person may pick inside (a bureau officer's own), one or several codes.
    var roots = (this.params.within || "").split(",").filter(function (c) { return c; });
    var byCode = {};

    function fill(select, items, placeholder) {
      select.textContent = "";
      var first = document.createElement("option");
      first.value = "";
      first.textContent = placeholder;
      select.appendChild(first);
      items.forEach(function (item) {
        byCode[item.code] = item;
        var opt = document.createElement("option");
        opt.value = item.code;
        opt.textContent = item.name;
        select.appendChild(opt);
      });
      select.disabled = !items.length;
    }

    function load(depth, parent) {
      for (var d = depth; d < selects.length; d++) { fill(selects[d], [], "—"); }
      var params = parent ? { parent: parent, limit: 200 } : { kind: "province", limit: 200 };
      return api(self.url, params).then(function (page) {
        // A county directly under a province (北京市朝阳区) goes in the last list.
        var target = depth;
        if (page.items.length && page.items.every(function (i) { return i.kind === "county"; })) { target = 2; }
        fill(selects[target], page.items, "请选择" + names[target]);
      });
    }

    selects.forEach(function (select) {
      select.addEventListener("change", function () {
        var depth = Number(select.dataset.depth);
        var code = select.value || (depth > 0 ? selects[depth - 1].value : "");
        self.set(code ? byCode[code] : null);
        if (select.value && depth < 2) { load(depth + 1, select.value); }
      });
    });
    if (roots.length === 1) {
      api(this.url, { q: roots[0], limit: 1 }).then(function (page) {
        var top = page.items[0];
        if (!top) { return; }
        var depth = top.kind === "province" ? 0 : top.kind === "city" ? 1 : 2;
        byCode[top.code] = top;
        fill(selects[depth], [top], top.name);
        selects[depth].value = top.code;
        for (var d = 0; d < depth; d++) { selects[d].closest("label").hidden = true; }
        if (depth < 2) { load(depth + 1, top.code); }
      });
    } else if (roots.length > 1) {
      // Several regions (an officer of more than one bureau): the first list names them, the next their parts.
      selects[0].previousSibling.textContent = "本部门辖区";
      Promise.all(roots.map(function (code) {
        return api(self.url, { q: code, limit: 1 }).then(function (page) { return page.items[0]; });
      })).then(function (tops) {
        fill(selects[0], tops.filter(function (t) { return t && roots.indexOf(t.code) >= 0; }), "请选择地区");
      });
    } else {
      load(0, "");
    }
  };

  document.querySelectorAll("input[data-picker]").forEach(function (input) { new Picker(input); });
})();
