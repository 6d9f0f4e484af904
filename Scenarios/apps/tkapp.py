#!/usr/bin/python3
"""A small Tk test application for gui-agent scenarios.

Run with Debian's /usr/bin/python3 (python3-tk). Every click, key, text change, menu choice,
scroll and drag is appended to --log as one JSON object per line. --geometry-out FILE receives
the screen geometry of every named widget (root coordinates, pixels) once the window is mapped
and laid out, and again whenever it changes (a dialog opens, a panel is raised); it is written
to a temporary name and renamed, so readers never see half a file.

Modes (--mode): form, menu, list, canvas, panel. See Scenarios/README.md.
"""

import argparse
import json
import os
import sys
import tkinter as tk

# MARK: - Logging and geometry


class Recorder:
    """Appends events to the log and writes the geometry file."""

    def __init__(self, root, log_path, geometry_path):
        self.root = root
        self.log_path = log_path
        self.geometry_path = geometry_path
        self.named = {}        # name -> widget
        self.regions = {}      # name -> callable returning (x, y, w, h) in root coordinates

    def log(self, **event):
        if not self.log_path:
            return
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event, ensure_ascii=False) + "\n")

    def name(self, widget, name):
        self.named[name] = widget
        widget._scenario_name = name
        return widget

    def name_of(self, widget):
        w = widget
        while w is not None:
            n = getattr(w, "_scenario_name", None)
            if n:
                return n
            w = getattr(w, "master", None)
        return str(widget)

    def geometry(self):
        widgets = {}
        for n, w in self.named.items():
            try:
                if not w.winfo_ismapped():
                    continue
                widgets[n] = {"x": w.winfo_rootx(), "y": w.winfo_rooty(),
                              "width": w.winfo_width(), "height": w.winfo_height()}
            except tk.TclError:
                continue
        for n, region in self.regions.items():
            r = region()
            if r:
                widgets[n] = {"x": r[0], "y": r[1], "width": r[2], "height": r[3]}
        top = self.root
        return {"window": {"title": top.title(), "x": top.winfo_rootx(), "y": top.winfo_rooty(),
                           "width": top.winfo_width(), "height": top.winfo_height()},
                "widgets": widgets}

    def write_geometry(self):
        if not self.geometry_path:
            return
        self.root.update_idletasks()
        tmp = self.geometry_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.geometry(), f, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(tmp, self.geometry_path)

    def refresh_geometry(self):
        """Writes the geometry once pending layout and mapping have happened."""
        self.root.after(50, self.write_geometry)


# MARK: - Global input logging


def install_input_logging(rec):
    root = rec.root

    def on_click(e):
        rec.log(event="click", widget=rec.name_of(e.widget), button=e.num, x=e.x_root, y=e.y_root)

    def on_key(e):
        mods = []
        if e.state & 0x4:
            mods.append("ctrl")
        if e.state & 0x8:
            mods.append("alt")
        if e.state & 0x1:
            mods.append("shift")
        rec.log(event="key", widget=rec.name_of(e.widget), keysym=e.keysym, char=e.char, mods=mods)

    root.bind_all("<ButtonPress>", on_click, add="+")
    root.bind_all("<KeyPress>", on_key, add="+")


def tracked_entry(rec, parent, name, width=24):
    """An Entry whose every change is logged as a text event."""
    var = tk.StringVar(master=rec.root)
    entry = rec.name(tk.Entry(parent, textvariable=var, width=width), name)
    var.trace_add("write", lambda *_: rec.log(event="text", widget=name, value=var.get()))
    return entry, var


# MARK: - Modes


def build_form(rec):
    root = rec.root
    frame = tk.Frame(root, padx=12, pady=12)
    frame.pack(fill="both", expand=True)
    tk.Label(frame, text="Name").grid(row=0, column=0, sticky="w", pady=4)
    name_entry, name_var = tracked_entry(rec, frame, "name")
    name_entry.grid(row=0, column=1, sticky="we")
    tk.Label(frame, text="Email").grid(row=1, column=0, sticky="w", pady=4)
    email_entry, email_var = tracked_entry(rec, frame, "email")
    email_entry.grid(row=1, column=1, sticky="we")
    subscribe = tk.BooleanVar(master=root)
    terms = tk.BooleanVar(master=root)
    rec.name(tk.Checkbutton(frame, text="Subscribe to news", variable=subscribe,
                            command=lambda: rec.log(event="check", widget="subscribe", value=subscribe.get())),
             "subscribe").grid(row=2, column=1, sticky="w")
    rec.name(tk.Checkbutton(frame, text="I accept the terms", variable=terms,
                            command=lambda: rec.log(event="check", widget="terms", value=terms.get())),
             "terms").grid(row=3, column=1, sticky="w")
    size = tk.StringVar(master=root, value="medium")
    sizes = tk.Frame(frame)
    sizes.grid(row=4, column=1, sticky="w")
    tk.Label(frame, text="Size").grid(row=4, column=0, sticky="w")
    for value in ("small", "medium", "large"):
        rec.name(tk.Radiobutton(sizes, text=value.capitalize(), value=value, variable=size,
                                command=lambda: rec.log(event="radio", widget="size", value=size.get())),
                 "size_" + value).pack(side="left")
    status = tk.Label(frame, text="")
    status.grid(row=6, column=0, columnspan=2, sticky="w")

    def submit():
        values = {"name": name_var.get(), "email": email_var.get(), "subscribe": subscribe.get(),
                  "terms": terms.get(), "size": size.get()}
        rec.log(event="submit", values=values)
        status.configure(text="Submitted")
        root.title("tkapp form: submitted")

    rec.name(tk.Button(frame, text="Submit", command=submit), "submit").grid(row=5, column=1, sticky="e", pady=8)


def build_menu(rec, dialog_position):
    root = rec.root
    menubar = tk.Menu(root)
    document, doc_var = tracked_entry(rec, root, "document", width=40)
    document.pack(padx=12, pady=12)

    def choose(path):
        rec.log(event="menu", item=path)

    dialog = tk.Toplevel(root)
    dialog.title("Save As")
    dialog.geometry(dialog_position)
    tk.Label(dialog, text="File name:").pack(side="top", anchor="w", padx=8, pady=4)
    save_entry, save_var = tracked_entry(rec, dialog, "saveas_name")
    save_entry.pack(side="top", padx=8)
    buttons = tk.Frame(dialog)
    buttons.pack(side="top", fill="x", padx=8, pady=8)

    def close_dialog(accepted):
        if accepted:
            rec.log(event="dialog", dialog="save_as", result="ok", value=save_var.get())
            root.title("tkapp menu: saved " + save_var.get())
        else:
            rec.log(event="dialog", dialog="save_as", result="cancel")
        dialog.withdraw()
        rec.refresh_geometry()

    rec.name(tk.Button(buttons, text="OK", command=lambda: close_dialog(True)), "saveas_ok").pack(side="right")
    rec.name(tk.Button(buttons, text="Cancel", command=lambda: close_dialog(False)),
             "saveas_cancel").pack(side="right", padx=4)
    save_entry.bind("<Return>", lambda e: close_dialog(True))
    dialog.withdraw()

    def save_as(event=None):
        if event is not None:
            rec.log(event="hotkey", keys="ctrl+s", widget=rec.name_of(event.widget))
        choose("File>Save As…")
        save_var.set("")
        dialog.deiconify()
        dialog.lift()
        # No window manager gives the dialog focus: take it, so typing lands in the entry.
        save_entry.focus_force()
        rec.refresh_geometry()

    file_menu = tk.Menu(menubar, tearoff=0)
    file_menu.add_command(label="New", underline=0, command=lambda: choose("File>New"))
    file_menu.add_command(label="Open…", underline=0, command=lambda: choose("File>Open…"))
    file_menu.add_command(label="Save As…", underline=5, accelerator="Ctrl+S", command=save_as)
    file_menu.add_separator()
    file_menu.add_command(label="Quit", underline=0, command=lambda: (choose("File>Quit"), root.destroy()))
    edit_menu = tk.Menu(menubar, tearoff=0)
    for label in ("Undo", "Cut", "Copy", "Paste"):
        edit_menu.add_command(label=label, underline=0, command=lambda label=label: choose("Edit>" + label))
    help_menu = tk.Menu(menubar, tearoff=0)
    help_menu.add_command(label="About", underline=0, command=lambda: choose("Help>About"))
    menubar.add_cascade(label="File", underline=0, menu=file_menu)
    menubar.add_cascade(label="Edit", underline=0, menu=edit_menu)
    menubar.add_cascade(label="Help", underline=0, menu=help_menu)
    root.configure(menu=menubar)
    root.bind_all("<Control-s>", save_as)

    # Menus are named regions: the menubar entries, and each dropdown's entries where the dropdown
    # is (or would be) posted, measured by posting it once at startup (see measure_menus).
    rec.menu_parts = (menubar, {"file": file_menu, "edit": edit_menu, "help": help_menu})
    rec.name(dialog, "saveas_dialog")


def measure_menus(rec):
    """Adds the menubar and dropdown entries to the geometry as `menu_file`, `menu_file_save_as`, …

    Tk draws the menubar as a clone menu inside the toplevel; its entries lie side by side. A
    cascade posts its dropdown at the entry's left edge, just below the menubar, which is where
    the dropdown is posted here once to measure its entries."""
    parts = getattr(rec, "menu_parts", None)
    if not parts:
        return
    menubar, dropdowns = parts
    root = rec.root
    clone = None
    # The clone shown in the toplevel: Tk names it <toplevel>.#<menubar path with # for .>.
    clone_path = root.tk.call("winfo", "children", ".")
    for path in (clone_path if isinstance(clone_path, tuple) else str(clone_path).split()):
        if str(path).startswith(".#"):
            clone = str(path)
    if clone is None:
        return
    tkcall = root.tk.call
    bar_x = int(tkcall("winfo", "rootx", clone))
    bar_y = int(tkcall("winfo", "rooty", clone))
    bar_h = int(tkcall("winfo", "height", clone))
    last = int(tkcall(clone, "index", "end"))
    xs = [int(tkcall(clone, "xposition", i)) for i in range(last + 1)]
    bar_w = int(tkcall("winfo", "width", clone))
    for i in range(last + 1):
        if tkcall(clone, "type", i) != "cascade":
            continue
        label = str(tkcall(clone, "entrycget", i, "-label")).lower()
        right = xs[i + 1] if i + 1 <= last else None
        if right is None:
            # The last entry's width: its label's width plus the padding Tk puts around entries.
            font = tkcall(clone, "cget", "-font")
            right = xs[i] + int(tkcall("font", "measure", font, str(tkcall(clone, "entrycget", i, "-label")))) + 16
            right = min(right, bar_w)
        x0 = bar_x + xs[i]
        rec.regions["menu_" + label] = (lambda r=(x0, bar_y, right - xs[i], bar_h): r)
        menu = dropdowns.get(label)
        if menu is None:
            continue
        menu.post(x0, bar_y + bar_h)
        menu.update_idletasks()
        mx, my, mw, mh = menu.winfo_rootx(), menu.winfo_rooty(), menu.winfo_width(), menu.winfo_height()
        end = menu.index("end")
        ys = [menu.yposition(j) for j in range(end + 1)] + [mh - int(str(menu.cget("borderwidth")))]
        for j in range(end + 1):
            if menu.type(j) != "command":
                continue
            text = str(menu.entrycget(j, "label")).lower().replace("…", "").strip().replace(" ", "_")
            rec.regions["menu_%s_%s" % (label, text)] = (lambda r=(mx, my + ys[j], mw, ys[j + 1] - ys[j]): r)
        menu.unpost()


def build_list(rec):
    root = rec.root
    frame = tk.Frame(root, padx=12, pady=12)
    frame.pack(fill="both", expand=True)
    tk.Label(frame, text="Items").pack(anchor="w")
    box = rec.name(tk.Listbox(frame, height=10, width=30, exportselection=False), "items")
    scroll = rec.name(tk.Scrollbar(frame, orient="vertical", command=box.yview), "items_scrollbar")
    box.configure(yscrollcommand=scroll.set)
    for i in range(1, 101):
        box.insert("end", "Item %03d" % i)
    box.pack(side="left", fill="both", expand=True)
    scroll.pack(side="left", fill="y")
    selected = tk.Label(root, text="")
    selected.pack(pady=4)

    def log_top():
        top = box.nearest(0)
        rec.log(event="scroll", widget="items", top_index=top, top_item=box.get(top))

    # X delivers wheel clicks as buttons 4 and 5; the Listbox scrolls on them, then we read the top.
    for seq in ("<Button-4>", "<Button-5>"):
        box.bind(seq, lambda e: box.after_idle(log_top), add="+")

    def on_select(_):
        sel = box.curselection()
        if sel:
            value = box.get(sel[0])
            selected.configure(text="Selected: " + value)
            rec.log(event="select", widget="items", value=value)
            root.title("tkapp list: " + value)

    box.bind("<<ListboxSelect>>", on_select)


def build_canvas(rec):
    root = rec.root
    canvas = rec.name(tk.Canvas(root, width=420, height=300, background="white", highlightthickness=0), "canvas")
    canvas.pack(padx=12, pady=12)
    canvas.create_rectangle(280, 180, 380, 280, outline="green", width=3, dash=(4, 2))
    canvas.create_text(330, 170, text="drop here")
    square = canvas.create_rectangle(40, 40, 100, 100, fill="blue", outline="")

    def item_region(item):
        def region():
            x1, y1, x2, y2 = canvas.coords(item)
            return (canvas.winfo_rootx() + int(x1), canvas.winfo_rooty() + int(y1), int(x2 - x1), int(y2 - y1))
        return region

    rec.regions["square"] = item_region(square)
    rec.regions["drop_zone"] = lambda: (canvas.winfo_rootx() + 280, canvas.winfo_rooty() + 180, 100, 100)
    state = {"grab": None}

    def press(e):
        if square in canvas.find_overlapping(e.x, e.y, e.x, e.y):
            state["grab"] = (e.x, e.y)
            rec.log(event="drag_start", widget="square", x=e.x, y=e.y)

    def motion(e):
        if state["grab"]:
            gx, gy = state["grab"]
            canvas.move(square, e.x - gx, e.y - gy)
            state["grab"] = (e.x, e.y)

    def release(e):
        if not state["grab"]:
            return
        state["grab"] = None
        x1, y1, x2, y2 = canvas.coords(square)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        inside = 280 <= cx <= 380 and 180 <= cy <= 280
        rec.log(event="drag", widget="square", x=cx, y=cy, in_drop_zone=inside)
        if inside:
            root.title("tkapp canvas: dropped")
        rec.refresh_geometry()

    canvas.bind("<ButtonPress-1>", press, add="+")
    canvas.bind("<B1-Motion>", motion)
    canvas.bind("<ButtonRelease-1>", release)


def build_panel(rec):
    """Buttons that raise one of three pages; all pages share a grid cell, so every page's widgets
    stay mapped and their geometry is known from the start."""
    root = rec.root
    tabs = tk.Frame(root)
    tabs.pack(side="top", fill="x", padx=12, pady=(12, 0))
    body = tk.Frame(root, borderwidth=1, relief="groove")
    body.pack(side="top", fill="both", expand=True, padx=12, pady=12)
    pages = {}
    for key in ("general", "advanced", "about"):
        page = tk.Frame(body, padx=8, pady=8)
        page.grid(row=0, column=0, sticky="nsew")
        pages[key] = page
    tk.Label(pages["general"], text="Nickname").grid(row=0, column=0, sticky="w")
    nick, nick_var = tracked_entry(rec, pages["general"], "nickname", width=20)
    nick.grid(row=0, column=1)
    verbose = tk.BooleanVar(master=root)
    rec.name(tk.Checkbutton(pages["advanced"], text="Verbose logging", variable=verbose,
                            command=lambda: rec.log(event="check", widget="verbose", value=verbose.get())),
             "verbose").grid(row=0, column=0, sticky="w")
    tk.Label(pages["advanced"], text="Threads").grid(row=1, column=0, sticky="w")
    threads, threads_var = tracked_entry(rec, pages["advanced"], "threads", width=6)
    threads.grid(row=1, column=1, sticky="w")
    tk.Label(pages["about"], text="tkapp panel mode").grid(row=0, column=0)
    current = {"page": "general"}

    def show(key):
        pages[key].tkraise()
        current["page"] = key
        rec.log(event="tab", tab=key)
        root.title("tkapp panel: " + key)

    for key in ("general", "advanced", "about"):
        rec.name(tk.Button(tabs, text=key.capitalize(), command=lambda key=key: show(key)),
                 "tab_" + key).pack(side="left")

    def apply():
        rec.log(event="apply", page=current["page"],
                values={"nickname": nick_var.get(), "verbose": verbose.get(), "threads": threads_var.get()})
        root.title("tkapp panel: applied")

    rec.name(tk.Button(root, text="Apply", command=apply), "apply").pack(side="right", padx=12, pady=(0, 12))
    pages["general"].tkraise()


# MARK: - Main


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["form", "menu", "list", "canvas", "panel"], default="form")
    p.add_argument("--log", help="append events here as JSON lines")
    p.add_argument("--geometry-out", help="write named widgets' screen geometry here (JSON)")
    p.add_argument("--position", default="+40+40", help="window position, +X+Y (no window manager)")
    p.add_argument("--dialog-position", default="+520+120", help="position of the Save As dialog")
    args = p.parse_args()

    root = tk.Tk(className="Tkapp")
    root.title("tkapp " + args.mode)
    root.geometry(args.position)
    rec = Recorder(root, args.log, args.geometry_out)
    install_input_logging(rec)
    if args.mode == "form":
        build_form(rec)
    elif args.mode == "menu":
        build_menu(rec, args.dialog_position)
    elif args.mode == "list":
        build_list(rec)
    elif args.mode == "canvas":
        build_canvas(rec)
    else:
        build_panel(rec)

    def ready():
        root.update_idletasks()
        measure_menus(rec)
        if "saveas_dialog" in rec.named:
            # Map the dialog once where it will appear so its widgets' geometry is known up front.
            dialog = rec.named["saveas_dialog"]
            dialog.deiconify()
            dialog.update()
            geometry = rec.geometry()
            dialog.withdraw()
            rec.regions.update({n: (lambda g=g: (g["x"], g["y"], g["width"], g["height"]))
                                for n, g in geometry["widgets"].items() if n.startswith("saveas_")})
        rec.write_geometry()
        rec.log(event="ready", mode=args.mode)

    root.wait_visibility(root)
    root.after(100, ready)
    root.mainloop()


if __name__ == "__main__":
    sys.exit(main())
