"""Random layouts of real Tk widgets and their element boxes, for gen_toolkit_pool.py.

`Builder.build()` fills a Toplevel with a menu bar, toolbar, columns of panels (forms, check and
radio groups, lists, notebooks, button rows, text) and maybe a dialog on top; `measure()` reads
every element's box back from Tk after the window is drawn and keeps only those fully visible
(inside the window and every ancestor, not under the dialog).
"""
import tkinter as tk
from tkinter import ttk

import vocab

BITMAPS = ["question", "info", "warning", "error", "hourglass", "questhead"]


class Builder:
    def __init__(self, top, rng, words, style, font, bold):
        self.top, self.rng, self.style, self.font, self.bold = top, rng, style, font, bold
        self.dict_words, self.ui_words, self.phrases = words
        self.ttk = style["widgets"].startswith("ttk:")
        self.items = []      # (role, text, label, widget, where, group); where: None | ("row", i) | ("tab", i)
        self.dialog = None
        if self.ttk:
            s = ttk.Style(top)
            s.configure(".", background=style["bg"], foreground=style["fg"], font=font)
            s.configure("TEntry", fieldbackground=style["field"], foreground=style["fg"])

    # MARK: - Words

    def word(self, max_words=2):
        return vocab.label(self.rng, (self.dict_words, self.ui_words, self.phrases), max_words)

    def entry_value(self):
        r = self.rng.random()
        if r < 0.4:
            return ""
        if r < 0.6:
            return f"{self.rng.choice(self.dict_words).lower()}@example.org"
        if r < 0.7:
            return str(self.rng.randint(1, 99999))
        return self.word(2)

    # MARK: - Widgets

    def frame(self, parent, **kw):
        return tk.Frame(parent, bg=self.style["bg"], **kw)

    def tk_colours(self, field=False):
        bg = self.style["field"] if field else self.style["bg"]
        return {"bg": bg, "fg": self.style["fg"], "font": self.font}

    def button(self, parent, text, group):
        if self.ttk:
            w = ttk.Button(parent, text=text)
        else:
            w = tk.Button(parent, text=text, highlightthickness=0, activeforeground=self.style["fg"],
                          **self.tk_colours())
        self.items.append(("button", text, "", w, None, group))
        return w

    def icon(self, parent, group):
        w = tk.Button(parent, bitmap=self.rng.choice(BITMAPS), width=24, height=24,
                      bg=self.style["bg"], fg=self.style["fg"], highlightthickness=0)
        self.items.append(("icon", "", "", w, None, group))
        return w

    def label(self, parent, text, group, heading=False):
        w = (ttk.Label(parent, text=text, font=self.bold if heading else self.font) if self.ttk else
             tk.Label(parent, text=text, **{**self.tk_colours(), "font": self.bold if heading else self.font}))
        self.items.append(("heading" if heading else "text", text, "", w, None, group))
        return w

    def entry(self, parent, label, group):
        value = self.entry_value()
        width = self.rng.randint(10, 30)
        w = (ttk.Entry(parent, width=width, font=self.font) if self.ttk else
             tk.Entry(parent, width=width, insertbackground=self.style["fg"], **self.tk_colours(field=True)))
        if value:
            w.insert(0, value)
        self.items.append(("entry", value, label, w, None, group))
        return w

    def check(self, parent, text, group, radio=False, var=None):
        if radio:
            w = (ttk.Radiobutton(parent, text=text, variable=var, value=text) if self.ttk else
                 tk.Radiobutton(parent, text=text, variable=var, value=text, selectcolor=self.style["field"],
                                highlightthickness=0, **self.tk_colours()))
        else:
            w = (ttk.Checkbutton(parent, text=text) if self.ttk else
                 tk.Checkbutton(parent, text=text, selectcolor=self.style["field"], highlightthickness=0,
                                **self.tk_colours()))
        self.items.append(("radio" if radio else "checkbox", text, "", w, None, group))
        return w

    # MARK: - Panels

    def menubar(self):
        bar = self.frame(self.top, bd=1, relief="raised")
        bar.pack(side="top", fill="x")
        for _ in range(self.rng.randint(3, 7)):
            text = self.word(1)
            w = (ttk.Menubutton(bar, text=text) if self.ttk else
                 tk.Menubutton(bar, text=text, **self.tk_colours()))
            w["menu"] = tk.Menu(w, tearoff=0)
            w.pack(side="left", padx=self.rng.randint(0, 6))
            self.items.append(("menu", text, "", w, None, "menubar"))

    def toolbar(self):
        bar = self.frame(self.top, bd=1, relief=self.rng.choice(["flat", "raised", "groove"]))
        bar.pack(side="top", fill="x", pady=self.rng.randint(0, 4))
        for _ in range(self.rng.randint(2, 8)):
            w = self.icon(bar, "toolbar") if self.rng.random() < 0.35 else self.button(bar, self.word(1), "toolbar")
            w.pack(side="left", padx=self.rng.randint(1, 6), pady=2)
        if self.rng.random() < 0.4:
            self.entry(bar, "", "toolbar").pack(side="right", padx=4)

    def form(self, parent):
        f = self.frame(parent)
        for r in range(self.rng.randint(2, 5)):
            text = self.word(2)
            self.label(f, text + self.rng.choice([":", "", ""]), "form").grid(row=r, column=0, sticky="w", padx=4, pady=3)
            self.entry(f, text, "form").grid(row=r, column=1, sticky="we", padx=4, pady=3)
        return f

    def checks(self, parent, radio):
        f = (ttk.LabelFrame(parent, text=self.word(2)) if self.ttk else
             tk.LabelFrame(parent, text=self.word(2), **self.tk_colours()))
        var = tk.StringVar(f, value="")
        for _ in range(self.rng.randint(2, 5)):
            self.check(f, self.word(3), "group", radio=radio, var=var).pack(anchor="w", padx=6, pady=1)
        return f

    def listbox(self, parent):
        n = self.rng.randint(3, 12)
        w = tk.Listbox(parent, height=self.rng.randint(3, 10), width=self.rng.randint(12, 28),
                       activestyle="none", highlightthickness=0, **self.tk_colours(field=True))
        for i in range(n):
            text = self.word(2)
            w.insert("end", text)
            self.items.append(("listitem", text, "", w, ("row", i), "list"))
        return w

    def notebook(self, parent):
        nb = ttk.Notebook(parent)
        for i in range(self.rng.randint(2, 5)):
            page = self.frame(nb)
            text = self.word(1)
            nb.add(page, text=text)
            self.items.append(("tab", text, "", nb, ("tab", i), "tabs"))
            if i == 0:
                self.panel(page, allow_tabs=False).pack(fill="both", expand=True, padx=4, pady=4)
        return nb

    def buttons(self, parent, group="buttons"):
        f = self.frame(parent)
        for _ in range(self.rng.randint(1, 4)):
            self.button(f, self.word(2), group).pack(side="left", padx=self.rng.randint(2, 10), pady=3)
        return f

    def paragraph(self, parent):
        f = self.frame(parent)
        self.label(f, self.word(3), "text", heading=True).pack(anchor="w")
        if self.rng.random() < 0.6:
            self.label(f, " ".join(self.word(2) for _ in range(self.rng.randint(2, 4))), "text").pack(anchor="w")
        return f

    def panel(self, parent, allow_tabs=True):
        kinds = ["form", "checks", "radios", "list", "buttons", "text"] + (["tabs"] if allow_tabs else [])
        kind = self.rng.choice(kinds)
        return {"form": lambda: self.form(parent), "checks": lambda: self.checks(parent, False),
                "radios": lambda: self.checks(parent, True), "list": lambda: self.listbox(parent),
                "buttons": lambda: self.buttons(parent), "text": lambda: self.paragraph(parent),
                "tabs": lambda: self.notebook(parent)}[kind]()

    def dialog_box(self):
        d = self.frame(self.top, bd=2, relief="raised", padx=12, pady=8)
        self.label(d, self.word(2), "dialog", heading=True).pack(anchor="w")
        self.label(d, " ".join(self.word(1) for _ in range(self.rng.randint(3, 6))), "dialog").pack(anchor="w", pady=6)
        self.buttons(d, "dialog").pack(side="right")
        d.place(relx=self.rng.uniform(0.35, 0.65), rely=self.rng.uniform(0.35, 0.65), anchor="center")
        d.lift()
        self.dialog = d

    def build(self):
        if self.rng.random() < 0.5:
            self.menubar()
        if self.rng.random() < 0.4:
            self.toolbar()
        if self.rng.random() < 0.4:
            self.buttons(self.top, "bottom").pack(side="bottom", anchor=self.rng.choice(["e", "center", "w"]), pady=6)
        body = self.frame(self.top)
        body.pack(side="top", fill="both", expand=True, padx=self.rng.randint(2, 20), pady=self.rng.randint(2, 16))
        for _ in range(self.rng.randint(1, 3)):
            col = self.frame(body)
            col.pack(side="left", fill="both", expand=True, padx=self.rng.randint(4, 24))
            for _ in range(self.rng.randint(1, 3)):
                self.panel(col).pack(side="top", anchor=self.rng.choice(["w", "center"]), pady=self.rng.randint(2, 14))
        if self.rng.random() < 0.2:
            self.dialog_box()

    # MARK: - Geometry

    def measure(self, W, H):
        """Elements whose whole box is visible, boxes [x, y, w, h] relative to the window."""
        self.top.update_idletasks()
        ox, oy = self.top.winfo_rootx(), self.top.winfo_rooty()
        dlg = self.rect(self.dialog, ox, oy) if self.dialog is not None else None
        out = []
        for role, text, label, w, where, group in self.items:
            if not w.winfo_viewable():
                continue
            box = self.rect(w, ox, oy)
            if where is not None:
                box = self.sub_box(w, where, box)
                if box is None:
                    continue
            if box[2] < 3 or box[3] < 3 or not self.visible(w, box, ox, oy, W, H):
                continue
            if dlg is not None and group != "dialog" and overlaps(box, dlg):
                continue
            out.append({"role": role, "text": text, "label": label, "group": group, "box": list(box)})
        return out

    @staticmethod
    def rect(w, ox, oy):
        return (w.winfo_rootx() - ox, w.winfo_rooty() - oy, w.winfo_width(), w.winfo_height())

    def visible(self, w, box, ox, oy, W, H):
        """Inside the window and inside every ancestor (a packed widget that does not fit is clipped)."""
        if not inside(box, (0, 0, W, H)):
            return False
        p = w.master
        while p is not None and p is not self.top:
            if not inside(box, self.rect(p, ox, oy)):
                return False
            p = p.master
        return True

    def sub_box(self, w, where, box):
        kind, i = where
        if kind == "row":
            b = w.bbox(i)  # the row's text, relative to the listbox; empty when scrolled out
            if not b:
                return None
            x, y, bw, bh = b
            full = (box[0] + x, box[1] + y, bw, bh)
            return full if inside(full, box) else None
        return tab_box(w, i, box)


def tab_box(nb, index, box):
    """A notebook tab's box, found with Notebook.index('@x,y') (ttk gives no bbox for tabs)."""
    def at(x, y):
        try:
            v = nb.index(f"@{x},{y}")
        except tk.TclError:
            return None
        return v if isinstance(v, int) else None
    seed = next(((x, y) for y in range(1, min(box[3], 60), 2) for x in range(0, box[2], 3)
                 if at(x, y) == index), None)
    if seed is None:
        return None
    x, y = seed
    x0, x1 = x, x
    while x0 > 0 and at(x0 - 1, y) == index:
        x0 -= 1
    while x1 < box[2] - 1 and at(x1 + 1, y) == index:
        x1 += 1
    mid = (x0 + x1) // 2
    y0, y1 = y, y
    while y0 > 0 and at(mid, y0 - 1) == index:
        y0 -= 1
    while y1 < box[3] - 1 and at(mid, y1 + 1) == index:
        y1 += 1
    return (box[0] + x0, box[1] + y0, x1 - x0 + 1, y1 - y0 + 1)


def inside(a, b):
    return a[0] >= b[0] and a[1] >= b[1] and a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3]


def overlaps(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
