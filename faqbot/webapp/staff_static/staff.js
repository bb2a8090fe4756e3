// The staff console works without this script; it only adds conveniences.
"use strict";

// Show log times in the reader's own time zone (the server renders UTC).
for (const el of document.querySelectorAll("time[datetime]")) {
  const seconds = Number(el.getAttribute("datetime"));
  if (Number.isFinite(seconds) && seconds > 0) {
    el.title = el.textContent;
    el.textContent = new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}

// A slow evaluation or reindex should not be submitted twice.
for (const form of document.querySelectorAll("form[data-busy]")) {
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    if (button) {
      button.dataset.label = button.textContent;
      button.textContent = form.dataset.busy;
      button.disabled = true;
    }
  });
}
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("button[data-label]")) {
    button.textContent = button.dataset.label;
    button.disabled = false;
  }
});

// Choosing a file or typing JSON picks the matching source.
for (const input of document.querySelectorAll("[data-select]")) {
  const pick = () => {
    const radio = input.form.querySelector(`input[name=source][value=${input.dataset.select}]`);
    if (radio) radio.checked = true;
  };
  input.addEventListener(input.type === "file" ? "change" : "input", pick);
}

// Choosing another article shows its passages at once.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}
