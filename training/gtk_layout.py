"""Random layouts of real GTK3 widgets and their element boxes, for gen_toolkit_pool.py
(--toolkit gtk). Needs Debian's python3-gi and gir1.2-gtk-3.0 (scripts/install-deps training).

Same element schema as tk_layout: role, text, label, group, box [x, y, w, h] relative to the
window, boxes from GTK's own allocation (Widget.translate_coordinates to the toplevel, allocated
width and height). Themes: Adwaita (light and dark) and HighContrast; font and DPI through
Gtk.Settings. A GTK window grows to its content's minimum size, so the window's final size is
read back after layout rather than assumed.
"""
import time

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402

import vocab  # noqa: E402

ICONS = ["document-save", "document-open", "edit-copy", "edit-paste", "edit-delete", "go-previous",
         "go-next", "view-refresh", "system-search", "help-about", "list-add", "list-remove"]
FONTS = ["Cantarell", "DejaVu Sans", "Liberation Sans", "DejaVu Serif", "Liberation Serif", "DejaVu Sans Mono"]


def pump(seconds):
    """Runs GTK's main loop for a while: layout, then drawing (both are deferred to idle/frame clock)."""
    end = time.time() + seconds
    while time.time() < end:
        while Gtk.events_pending():
            Gtk.main_iteration_do(False)
        time.sleep(0.005)


def random_style(rng, max_size):
    W, H = rng.choice([(420, 320), (640, 480), (800, 600), (1024, 768), (1280, 800)])
    return {"size": [min(W, max_size[0]), min(H, max_size[1])], "family": rng.choice(FONTS),
            "points": rng.choice([9, 10, 11, 11, 12, 13]), "dpi": rng.choice([96, 96, 108, 120, 144]),
            "theme": rng.choice(["Adwaita", "Adwaita", "Adwaita-dark", "HighContrast"]), "widgets": "gtk3"}


class Builder:
    def __init__(self, rng, words, style):
        self.rng, self.style = rng, style
        self.dict_words, self.ui_words, self.phrases = words
        self.items = []  # (role, text, label, widget, group)
        s = Gtk.Settings.get_default()
        s.set_property("gtk-theme-name", "Adwaita" if style["theme"] == "Adwaita-dark" else style["theme"])
        s.set_property("gtk-application-prefer-dark-theme", style["theme"] == "Adwaita-dark")
        s.set_property("gtk-font-name", f"{style['family']} {style['points']}")
        s.set_property("gtk-xft-dpi", style["dpi"] * 1024)
        self.win = Gtk.Window(type=Gtk.WindowType.POPUP)  # no decorations, placed where asked
        self.win.move(0, 0)
        self.win.set_default_size(*style["size"])
        self.win.resize(*style["size"])

    # MARK: - Words

    def word(self, max_words=2):
        return vocab.label(self.rng, (self.dict_words, self.ui_words, self.phrases), max_words)

    def add(self, role, text, label, widget, group):
        self.items.append((role, text, label, widget, group))
        return widget

    # MARK: - Panels

    def menubar(self):
        bar = Gtk.MenuBar()
        for _ in range(self.rng.randint(3, 7)):
            text = self.word(1)
            item = Gtk.MenuItem(label=text)
            item.set_submenu(Gtk.Menu())
            bar.append(self.add("menu", text, "", item, "menubar"))
        return bar

    def toolbar(self):
        box = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=self.rng.randint(2, 8))
        for _ in range(self.rng.randint(2, 7)):
            if self.rng.random() < 0.4:
                b = Gtk.Button.new_from_icon_name(self.rng.choice(ICONS), Gtk.IconSize.BUTTON)
                box.pack_start(self.add("icon", "", "", b, "toolbar"), False, False, 0)
            else:
                text = self.word(1)
                box.pack_start(self.add("button", text, "", Gtk.Button(label=text), "toolbar"), False, False, 0)
        if self.rng.random() < 0.4:
            e = Gtk.SearchEntry()
            box.pack_end(self.add("entry", "", "", e, "toolbar"), False, False, 0)
        return box

    def form(self):
        grid = Gtk.Grid(column_spacing=8, row_spacing=self.rng.randint(2, 10))
        for r in range(self.rng.randint(2, 5)):
            text = self.word(2)
            lab = Gtk.Label(label=text + self.rng.choice([":", ""]), xalign=0, halign=Gtk.Align.START)
            grid.attach(self.add("text", lab.get_label(), "", lab, "form"), 0, r, 1, 1)
            e = Gtk.Entry()
            value = self.word(2) if self.rng.random() < 0.5 else ""
            e.set_text(value)
            grid.attach(self.add("entry", value, text, e, "form"), 1, r, 1, 1)
        return grid

    def checks(self, radio):
        frame = Gtk.Frame(label=self.word(2))
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=2)
        first = None
        for _ in range(self.rng.randint(2, 5)):
            text = self.word(3)
            if radio:
                w = Gtk.RadioButton.new_with_label_from_widget(first, text)
                first = first or w
            else:
                w = Gtk.CheckButton(label=text)
            box.pack_start(self.add("radio" if radio else "checkbox", text, "", w, "group"), False, False, 0)
        frame.add(box)
        return frame

    def listbox(self):
        lb = Gtk.ListBox()
        for _ in range(self.rng.randint(3, 8)):
            text = self.word(2)
            row = Gtk.ListBoxRow()
            row.add(Gtk.Label(label=text, xalign=0))
            lb.add(self.add("listitem", text, "", row, "list"))
        return lb

    def notebook(self):
        nb = Gtk.Notebook()
        for i in range(self.rng.randint(2, 5)):
            text = self.word(1)
            tab = Gtk.Label(label=text)
            page = self.panel(allow_tabs=False) if i == 0 else Gtk.Box()
            nb.append_page(page, self.add("tab", text, "", tab, "tabs"))
        return nb

    def buttons(self, group="buttons"):
        box = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=self.rng.randint(4, 12))
        for _ in range(self.rng.randint(1, 4)):
            text = self.word(2)
            box.pack_start(self.add("button", text, "", Gtk.Button(label=text), group), False, False, 0)
        return box

    def paragraph(self):
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=4)
        text = self.word(3)
        head = Gtk.Label(xalign=0, halign=Gtk.Align.START)  # the box hugs the text
        head.set_markup(f"<b>{text}</b>")
        box.pack_start(self.add("heading", text, "", head, "text"), False, False, 0)
        return box

    def panel(self, allow_tabs=True):
        kinds = ["form", "checks", "radios", "list", "buttons", "text"] + (["tabs"] if allow_tabs else [])
        kind = self.rng.choice(kinds)
        return {"form": self.form, "checks": lambda: self.checks(False), "radios": lambda: self.checks(True),
                "list": self.listbox, "buttons": self.buttons, "text": self.paragraph, "tabs": self.notebook}[kind]()

    def build(self):
        outer = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=0)
        if self.rng.random() < 0.5:
            outer.pack_start(self.menubar(), False, False, 0)
        if self.rng.random() < 0.4:
            outer.pack_start(self.toolbar(), False, False, 4)
        body = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=self.rng.randint(8, 32))
        body.set_border_width(self.rng.randint(4, 20))
        for _ in range(self.rng.randint(1, 3)):
            col = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=self.rng.randint(4, 16))
            for _ in range(self.rng.randint(1, 3)):
                col.pack_start(self.panel(), False, False, 0)
            body.pack_start(col, True, True, 0)
        outer.pack_start(body, True, True, 0)
        if self.rng.random() < 0.4:
            outer.pack_end(self.buttons("bottom"), False, False, 6)
        self.win.add(outer)
        self.win.show_all()
        pump(0.25)

    # MARK: - Geometry

    def measure(self):
        """(window size [W, H], visible elements with boxes relative to the window)."""
        W, H = self.win.get_allocated_width(), self.win.get_allocated_height()
        out = []
        for role, text, label, w, group in self.items:
            if not w.is_visible() or not w.get_mapped():
                continue
            xy = w.translate_coordinates(self.win, 0, 0)
            if xy is None:
                continue
            x, y = xy
            bw, bh = w.get_allocated_width(), w.get_allocated_height()
            if bw < 3 or bh < 3 or x < 0 or y < 0 or x + bw > W or y + bh > H or not ancestors_hold(w, self.win, x, y, bw, bh):
                continue
            out.append({"role": role, "text": text, "label": label, "group": group, "box": [x, y, bw, bh]})
        return [W, H], out

    def destroy(self):
        self.win.destroy()
        pump(0.02)


def ancestors_hold(w, win, x, y, bw, bh):
    """The box lies inside every ancestor's allocation (a scrolled or clipped parent hides the rest)."""
    p = w.get_parent()
    while p is not None and p is not win:
        xy = p.translate_coordinates(win, 0, 0)
        if xy is None:
            return False
        px, py = xy
        if x < px or y < py or x + bw > px + p.get_allocated_width() or y + bh > py + p.get_allocated_height():
            return False
        p = p.get_parent()
    return True
