/* The campaign segment builder: conditions in groups joined by "all" (and) or "any"
   (or), groups nested inside groups. It edits the JSON tree in the form's `segment`
   field, which the server validates and compiles (campaigns/builder/segments.py); it
   never decides anything itself. Without this script the field can be typed as JSON.
   Every change fires `segment-changed` on the body, which refreshes the live count. */
(function () {
  "use strict";

  var root = document.querySelector("[data-segment-builder]");
  if (!root) return;
  var input = document.getElementById(root.dataset.input);
  var config = JSON.parse(document.getElementById("segment-fields").textContent);
  var fields = {};
  config.fields.forEach(function (f) { fields[f.key] = f; });

  var tree = read(input.value);
  if (!tree.rules.length) tree.rules.push({ field: config.start });
  input.closest("[data-segment-raw]").hidden = true;
  root.hidden = false;
  render();

  function read(text) {
    try {
      var value = JSON.parse(text || "{}");
      if (value && Array.isArray(value.rules)) return value;
    } catch (e) { /* an unreadable value starts a fresh tree; the server said why */ }
    return { op: "and", rules: [] };
  }

  function isGroup(node) { return Array.isArray(node.rules); }

  function hasValue(rule) {
    if (rule.min !== undefined && rule.min !== "") return true;
    if (rule.max !== undefined && rule.max !== "") return true;
    return Array.isArray(rule.values) && rule.values.length > 0;
  }

  // What is saved: conditions left blank and groups left empty are dropped, so a
  // half-built row never becomes a condition nobody chose.
  function pruned(group) {
    var rules = [];
    group.rules.forEach(function (node) {
      if (isGroup(node)) {
        var inner = pruned(node);
        if (inner.rules.length) rules.push(inner);
      } else if (node.field && hasValue(node)) {
        var rule = { field: node.field };
        ["min", "max"].forEach(function (k) {
          if (node[k] !== undefined && node[k] !== "") rule[k] = node[k];
        });
        if (node.values) rule.values = node.values;
        rules.push(rule);
      }
    });
    return { op: group.op || "and", rules: rules };
  }

  function sync() {
    var value = pruned(tree);
    input.value = value.rules.length ? JSON.stringify(value) : "";
    document.body.dispatchEvent(new CustomEvent("segment-changed"));
  }

  function render() {
    root.replaceChildren(groupEl(tree, 1, null));
    sync();
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.append(c); });
    return node;
  }

  function button(text, label, onClick) {
    var b = el("button", { type: "button", class: "btn btn--ghost btn--small", text: text });
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function groupEl(group, depth, parent) {
    group.op = group.op === "or" ? "or" : "and";
    var op = el("select", { "aria-label": depth === 1 ? "Accounts enter when they match" : "This group matches" });
    [["and", "all"], ["or", "any"]].forEach(function (o) {
      var option = el("option", { value: o[0], text: o[1] });
      if (group.op === o[0]) option.selected = true;
      op.append(option);
    });
    op.addEventListener("change", function () { group.op = op.value; render(); });
    var head = el("div", { class: "seg-group__head" }, [
      document.createTextNode(depth === 1 ? "Accounts enter when they match " : "Group: match "),
      op,
      document.createTextNode(" of these:"),
    ]);
    var list = el("ol", { class: "seg-rules" });
    group.rules.forEach(function (node, i) {
      var item = isGroup(node) ? el("li", {}, [groupEl(node, depth + 1, group)]) : ruleEl(node, group);
      if (i > 0) item.dataset.join = group.op === "or" ? "or" : "and";
      list.append(item);
    });
    var actions = el("div", { class: "seg-actions" }, [
      button("+ Condition", null, function () { group.rules.push({ field: config.start }); render(); }),
      depth < config.max_depth
        ? button("+ Group", null, function () {
            group.rules.push({ op: group.op === "and" ? "or" : "and", rules: [{ field: config.start }] });
            render();
          })
        : null,
      parent
        ? button("Remove group", null, function () {
            parent.rules.splice(parent.rules.indexOf(group), 1);
            render();
          })
        : null,
    ]);
    var name = depth === 1 ? "Entry conditions" : "Group of conditions";
    return el("div", { class: "seg-group seg-group--depth-" + depth, role: "group", "aria-label": name }, [head, list, actions]);
  }

  function ruleEl(rule, group) {
    var field = fields[rule.field] || fields[config.start];
    rule.field = field.key;
    var pick = el("select", { "aria-label": "Condition" });
    config.fields.forEach(function (f) {
      var option = el("option", { value: f.key, text: f.label });
      if (f.key === field.key) option.selected = true;
      pick.append(option);
    });
    pick.addEventListener("change", function () {
      // A different field takes different values: start it blank.
      Object.keys(rule).forEach(function (k) { delete rule[k]; });
      rule.field = pick.value;
      render();
    });
    var remove = button("Remove", "Remove this " + field.label.toLowerCase() + " condition", function () {
      group.rules.splice(group.rules.indexOf(rule), 1);
      render();
    });
    return el("li", { class: "seg-rule" }, [pick, valueEl(rule, field), remove]);
  }

  function valueEl(rule, field) {
    if (field.kind === "money" || field.kind === "days") {
      return el("span", { class: "seg-range" }, ["min", "max"].map(function (k) {
        var box = el("input", {
          type: "number", min: "0", step: field.kind === "money" ? "0.01" : "1",
          inputmode: field.kind === "money" ? "decimal" : "numeric",
          value: rule[k] === undefined ? "" : rule[k],
        });
        box.addEventListener("input", function () { rule[k] = box.value; sync(); });
        var words = k === "min" ? "from" : "up to";
        return el("label", {}, [el("span", { class: "sr-only", text: field.label + " " }), document.createTextNode(words + " "), box]);
      }));
    }
    if (field.kind === "choice") {
      var chosen = (rule.values || []).map(String);
      var box = el("span", { class: "seg-choices" });
      field.choices.forEach(function (c) {
        var check = el("input", { type: "checkbox", value: String(c[0]) });
        check.checked = chosen.indexOf(String(c[0])) !== -1;
        check.addEventListener("change", function () {
          rule.values = Array.from(box.querySelectorAll("input:checked")).map(function (x) {
            return field.key === "creditor" ? Number(x.value) : x.value;
          });
          sync();
        });
        box.append(el("label", {}, [check, document.createTextNode(" " + c[1])]));
      });
      return box;
    }
    var text = el("input", {
      type: "text", "aria-label": field.label, placeholder: field.hint || "",
      value: (rule.values || []).join(", "),
    });
    text.addEventListener("input", function () {
      rule.values = text.value.split(/[,;]/).map(function (v) { return v.trim(); }).filter(Boolean);
      sync();
    });
    return text;
  }
})();
