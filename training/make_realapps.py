#!/usr/bin/python3
"""The second held-out grounding set, training/heldout-real/: windows of REAL applications from
Debian (zenity dialogs, gtk3-widget-factory, gtk3-demo, galculator) on a private Xvfb, with boxes
from the accessibility tree (AT-SPI, read with pyatspi) and pixels from `gui-agent capture`.
ScreenSpot v1 format like training/heldout/ (bbox [x, y, w, h], data_type text|icon, data_source =
role) plus `app` and `theme`. The model never trains on these images: it is a test set.

An element is kept when it is showing and visible, named (an entry by its label relation or its
text), its box is non-degenerate, lies inside its window, no other window overlaps it, it lies
inside its scroll panes (not scrolled away) and the captured region, and its name is shown once on the
image (counted over every text-bearing node of every captured app, so "Cancel" in two dialogs of a
two-app screen names neither, and as whole words inside longer texts too). Single-character names
are left out: a digit button of a calculator also appears in its display. A label's box is its
text's extents (AT-SPI Text), not its allocation, which GTK stretches to the row height.

Each scene runs in a fresh process under one X server, one session D-Bus and one AT-SPI bus
(scripts/with-xvfb + dbus-run-session), with HOME, XDG dirs and GTK settings in a temporary folder
(no cursor blink, no animations), a fixed clock (libfaketime, so calendars show one month) and
fixed file times in the file chooser, so a rerun gives the same annotations and, but for animated widgets (the pulsing
progress bar of gtk3-widget-factory, the spinner of gtk3-demo's list_store), the same pixels.

Must run under Debian's /usr/bin/python3 (pyatspi and gi are Debian packages; scripts/install-deps
training installs them). Usage: training/make_realapps.py [--only SCENE,...] [--dump]
"""
import argparse
import calendar
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402
import instructions  # noqa: E402

OUT = os.path.join(HERE, "heldout-real")
ANNOTATIONS = "screenspot_realapps.json"
SCREEN = (1920, 1080)
MARGIN = 24  # desktop pixels kept around a captured window
BACKGROUND = "#3d5a6c"  # the desktop's colour (Xvfb's root is black)
MAX_NAME = 40  # longer names are sentences, not things a user names
MAX_PER_IMAGE = 14
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"  # Debian's libfaketime
FAKE_DATE = "2024-03-14 10:00:00"  # so that the big windows do not make up most of the set

# MARK: - Scenes

# A scene: (name, theme, [command, ...], actions). Its apps start one after another; with several
# apps, "move" places each toplevel (no window manager: windows appear where they ask).
# actions: ("click", role, name) through AT-SPI's first action, before the capture.
ZENITY_FORMS = ["zenity", "--forms", "--title", "Add contact", "--text", "New contact",
                "--add-entry", "First name", "--add-entry", "Last name", "--add-entry", "Email address",
                "--add-password", "Password", "--add-combo", "Group", "--combo-values", "Friends|Family|Work",
                "--ok-label", "Save", "--cancel-label", "Discard"]
ZENITY_FORMS2 = ["zenity", "--forms", "--title", "Shipping", "--text", "Delivery address",
                 "--add-entry", "Street", "--add-entry", "City", "--add-entry", "Postal code",
                 "--add-entry", "Country", "--add-combo", "Speed", "--combo-values", "Standard|Express",
                 "--add-entry", "Phone", "--ok-label", "Confirm"]  # no --add-calendar: it shows today
ZENITY_CHECKLIST = ["zenity", "--list", "--checklist", "--title", "Packages", "--text", "Choose packages to install",
                    "--width", "520", "--height", "420", "--column", "Install", "--column", "Package",
                    "--column", "Version", "--column", "Section",
                    "TRUE", "curl", "7.88.1", "web", "FALSE", "gimp", "2.10.34", "graphics",
                    "FALSE", "inkscape", "1.2.2", "graphics", "TRUE", "vim", "9.0.1378", "editors",
                    "FALSE", "emacs", "28.2", "editors", "FALSE", "ffmpeg", "5.1.6", "video",
                    "TRUE", "git", "2.39.5", "vcs", "FALSE", "rsync", "3.2.7", "net"]
ZENITY_RADIO = ["zenity", "--list", "--radiolist", "--title", "Printer", "--text", "Select a printer",
                "--width", "480", "--height", "360", "--column", "Use", "--column", "Printer", "--column", "Location",
                "TRUE", "LaserJet 4050", "Second floor", "FALSE", "OfficeJet Pro", "Reception",
                "FALSE", "Canon PIXMA", "Lab 3", "FALSE", "Brother HL-L2350", "Mail room",
                "FALSE", "Print to PDF", "Local"]
ZENITY_LIST = ["zenity", "--list", "--title", "Open recent", "--text", "Recent documents",
               "--width", "560", "--height", "400", "--column", "Document", "--column", "Modified", "--column", "Size",
               "Quarterly report.odt", "Yesterday", "48 KB", "Budget 2024.ods", "March 12", "112 KB",
               "Team photo.jpg", "March 9", "2.1 MB", "Meeting notes.txt", "February 28", "3 KB",
               "Invoice 0042.pdf", "February 14", "86 KB", "Slides draft.odp", "January 30", "1.4 MB"]
ZENITY_QUESTION = ["zenity", "--question", "--title", "Unsaved changes", "--text",
                   "Save changes to the document before closing?", "--ok-label", "Save",
                   "--cancel-label", "Cancel", "--extra-button", "Close without saving"]
ZENITY_ENTRY = ["zenity", "--entry", "--title", "Rename file", "--text", "New file name",
                "--entry-text", "holiday-photos.tar.gz", "--ok-label", "Rename"]
ZENITY_CALENDAR = ["zenity", "--calendar", "--title", "Pick a date", "--text", "Appointment date",
                   "--day", "14", "--month", "3", "--year", "2024", "--ok-label", "Choose"]
ZENITY_FILES = ["zenity", "--file-selection", "--title", "Open document", "--filename", "{home}/Documents/"]
ZENITY_SAVE = ["zenity", "--file-selection", "--save", "--title", "Save as",
               "--filename", "{home}/Documents/summary.txt"]
ZENITY_SCALE = ["zenity", "--scale", "--title", "Volume", "--text", "Output volume", "--value", "40"]
ZENITY_WARNING = ["zenity", "--warning", "--title", "Disk space", "--text", "Disk almost full", "--ok-label", "Dismiss"]

HIDE_DEMO = ("hide", 0, "Application Class")  # gtk3-demo --run also shows its main window
SCENES = [
    ("zenity_forms", "Adwaita", [ZENITY_FORMS], []),
    ("zenity_forms_dark", "Adwaita:dark", [ZENITY_FORMS2], []),
    ("zenity_checklist", "Adwaita", [ZENITY_CHECKLIST], []),
    ("zenity_radiolist_hc", "HighContrast", [ZENITY_RADIO], []),
    ("zenity_list_dark", "Adwaita:dark", [ZENITY_LIST], []),
    ("zenity_question", "Adwaita", [ZENITY_QUESTION], []),
    ("zenity_entry_hcinverse", "HighContrastInverse", [ZENITY_ENTRY], []),
    ("zenity_calendar", "Adwaita", [ZENITY_CALENDAR], []),
    ("zenity_files", "Adwaita", [ZENITY_FILES], []),
    ("zenity_save_dark", "Adwaita:dark", [ZENITY_SAVE], []),
    ("widget_factory_p1", "Adwaita", [["gtk3-widget-factory"]], []),
    ("widget_factory_p2_dark", "Adwaita:dark", [["gtk3-widget-factory"]], [("click", "radio button", "Page 2")]),
    ("widget_factory_p3", "Adwaita", [["gtk3-widget-factory"]], [("click", "radio button", "Page 3")]),
    ("gtk3_demo", "Adwaita", [["gtk3-demo"]], []),
    ("gtk3_demo_builder_hc", "HighContrast", [["gtk3-demo", "--run=builder"]], [HIDE_DEMO]),
    ("gtk3_demo_dialog", "Adwaita", [["gtk3-demo", "--run=dialog"]], [HIDE_DEMO]),
    ("gtk3_demo_sizegroup_hcinverse", "HighContrastInverse", [["gtk3-demo", "--run=sizegroup"]], [HIDE_DEMO]),
    ("gtk3_demo_assistant", "Adwaita", [["gtk3-demo", "--run=assistant"]], [HIDE_DEMO]),
    ("gtk3_demo_infobar", "Adwaita", [["gtk3-demo", "--run=infobar"]], [HIDE_DEMO]),
    ("gtk3_demo_spinbutton", "Adwaita", [["gtk3-demo", "--run=spinbutton"]], [HIDE_DEMO]),
    ("gtk3_demo_sidebar", "Adwaita", [["gtk3-demo", "--run=sidebar"]], [HIDE_DEMO]),
    ("gtk3_demo_combobox", "Adwaita", [["gtk3-demo", "--run=combobox"]], [HIDE_DEMO]),
    ("gtk3_demo_list_store_dark", "Adwaita:dark", [["gtk3-demo", "--run=list_store"]], [HIDE_DEMO]),
    ("gtk3_demo_pickers", "Adwaita", [["gtk3-demo", "--run=pickers"]], [HIDE_DEMO]),
    ("galculator", "Adwaita", [["galculator"]], []),
    ("galculator_dark", "Adwaita:dark", [["galculator"]], []),
    # full screens, two apps side by side
    ("screen_calc_list", "Adwaita", [["galculator"], ZENITY_LIST], [("move", 0, 180, 240), ("move", 1, 980, 200)]),
    ("screen_demo_forms", "Adwaita", [["gtk3-demo", "--run=builder"], ZENITY_FORMS],
     [HIDE_DEMO, ("move", 0, 60, 120), ("move", 1, 1200, 300)]),
    ("screen_scale_warning_dark", "Adwaita:dark", [ZENITY_SCALE, ZENITY_WARNING],
     [("move", 0, 300, 400), ("move", 1, 1100, 420)]),
]

# Roles of AT-SPI (pyatspi's role names) -> the set's roles (instructions.py's where they exist).
ROLES = {"push button": "button", "toggle button": "button", "check box": "checkbox", "radio button": "radio",
         "page tab": "tab", "label": "text", "heading": "heading", "table cell": "listitem", "list item": "listitem",
         "tree item": "listitem", "table column header": "header", "combo box": "combobox", "text": "entry",
         "password text": "entry", "spin button": "entry", "menu": "menu", "menu item": "menu", "link": "link"}
# Forms for roles instructions.py has none for (same style: the text, "the X <noun>", a verb).
EXTRA_FORMS = {"icon": instructions.TEXT_FORMS["button"],
               "header": ["{t}", "the {t} column", "the {t} column header", "click the {t} column header"],
               "combobox": ["{t}", "the {t} dropdown", "the {t} combo box"],
               "link": ["{t}", "the {t} link", "click the {t} link"]}
LABELLED_COMBO_FORMS = ["the {l} dropdown", "{l} dropdown", "the {l} combo box"]
CONTAINERS = {"application", "frame", "dialog", "window", "file chooser", "alert", "color chooser"}
# Ancestors that cut their children off (a scrolled list). Other ancestors are not checked: GTK's
# allocations include CSS margins, so a header-bar button or a tree cell pokes out of its parent
# by a few pixels while being fully drawn.
CLIPPERS = {"scroll pane", "viewport"}
# Buttons that draw an icon, not their name (AT-SPI does not say which: every GTK3 button has the
# Image interface and none the Text one): these names when narrow (a "Close" text button stays
# text), and any button about as wide as high (GTK gives a named text button more width).
ICON_NAMES = {"Minimize", "Maximize", "Close", "Menu", "Volume Up", "Volume Down", "Add", "Up Path", "Down Path"}
ICON_MAX_WIDTH = 48
ICON_FILE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
LABEL_GAP = 160  # an unlabelled field's label is the nearest label left of it on its row, this close


# MARK: - Environment


def write_home(tmp):
    """HOME, XDG dirs and GTK settings of the apps: a small fixed file tree with fixed times."""
    home = os.path.join(tmp, "home")
    for d in ["Documents/Projects", "Documents/Letters", "Music", "Pictures", "Downloads", ".config/gtk-3.0"]:
        os.makedirs(os.path.join(home, d), exist_ok=True)
    files = {"Documents/annual-review.odt": 48213, "Documents/budget.ods": 11520, "Documents/notes.txt": 812,
             "Documents/travel-plan.pdf": 90311, "Documents/recipes.md": 2304, "Pictures/beach.png": 301022}
    for rel, size in sorted(files.items()):
        with open(os.path.join(home, rel), "wb") as f:
            f.write(b"x" * size)
    t = calendar.timegm((2023, 6, 5, 10, 30, 0, 0, 0, 0))
    for dirpath, dirnames, filenames in os.walk(home):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), (t, t))
    with open(os.path.join(home, ".config/gtk-3.0/settings.ini"), "w") as f:
        f.write("[Settings]\ngtk-cursor-blink=false\ngtk-enable-animations=false\n"
                "gtk-recent-files-enabled=false\ngtk-font-name=Cantarell 11\n")
    with open(os.path.join(home, ".config/gtk-3.0/bookmarks"), "w") as f:
        f.write(f"file://{home}/Documents/Projects Projects\n")
    return home


def app_env(home, theme, bridge=True):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XAUTHORITY")}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", XDG_DATA_HOME=f"{home}/.local/share",
               XDG_CACHE_HOME=f"{home}/.cache", XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", f"{home}/.run"),
               GSETTINGS_BACKEND="memory", LANG="C.UTF-8", LC_ALL="C.UTF-8", TZ="UTC", GTK_THEME=theme, GDK_SCALE="1",
               NO_AT_BRIDGE="0" if bridge else "1", GTK_MODULES="gail:atk-bridge" if bridge else "")
    if os.path.exists(FAKETIME_LIB):  # calendars show FAKE_DATE, not today (monotonic time stays real)
        env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME=f"@{FAKE_DATE}", FAKETIME_DONT_FAKE_MONOTONIC="1")
    return env


def enable_accessibility():
    """Sets org.a11y.Status.IsEnabled on the session bus and reads it back (the a11y bus launcher
    starts on demand); apps then load the AT-SPI bridge."""
    from gi.repository import Gio, GLib
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    args = ("org.a11y.Bus", "/org/a11y/bus", "org.freedesktop.DBus.Properties")
    bus.call_sync(*args, "Set", GLib.Variant("(ssv)", ("org.a11y.Status", "IsEnabled", GLib.Variant("b", True))),
                  None, Gio.DBusCallFlags.NONE, 5000, None)
    on = bus.call_sync(*args, "Get", GLib.Variant("(ss)", ("org.a11y.Status", "IsEnabled")),
                       GLib.VariantType("(v)"), Gio.DBusCallFlags.NONE, 5000, None).unpack()[0]
    if not on:
        sys.exit("make_realapps: accessibility is off (org.a11y.Status.IsEnabled false)")


def background_window(color):
    """Runs in its own process (no AT-SPI bridge): a full-screen undecorated window of one colour,
    mapped first, so later windows lie on a desktop instead of Xvfb's black root."""
    import gi
    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk
    css = Gtk.CssProvider()
    css.load_from_data(f"window {{ background: {color}; }}".encode())
    w = Gtk.Window()
    Gtk.StyleContext.add_provider_for_screen(w.get_screen(), css, Gtk.STYLE_PROVIDER_PRIORITY_USER)
    w.set_decorated(False)
    w.move(0, 0)
    w.set_default_size(*SCREEN)
    w.show_all()
    Gtk.main()


# MARK: - Accessibility tree


def extents(acc, pyatspi):
    """Screen box [x, y, w, h]; [0, 0, 0, 0] for a node without the Component interface."""
    try:
        e = acc.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    except NotImplementedError:
        return [0, 0, 0, 0]
    return [e.x, e.y, e.width, e.height]


def text_of(acc):
    try:
        t = acc.queryText()
        return t, t.getText(0, -1)
    except NotImplementedError:
        return None, None


def node_record(acc, pyatspi, ancestors):
    """Everything the sample builder needs of one showing node, read once."""
    role = acc.getRoleName()
    rec = {"role": role, "name": (acc.name or "").strip(), "box": extents(acc, pyatspi), "ancestors": ancestors,
           "parent_role": acc.parent.getRoleName() if acc.parent else "", "text": None, "text_box": None,
           "label": "", "selected": ""}
    t, s = text_of(acc)
    if t is not None and s:
        rec["text"] = s
        r = t.getRangeExtents(0, t.characterCount, pyatspi.DESKTOP_COORDS)
        rec["text_box"] = [r[0], r[1], r[2], r[3]]
    rec["nested"] = False
    for rel in acc.getRelationSet():
        if rel.getRelationType() == pyatspi.RELATION_LABELLED_BY and rel.getNTargets() > 0:
            rec["label"] = (rel.getTarget(0).name or "").strip()
        if rel.getRelationType() == pyatspi.RELATION_NODE_CHILD_OF:
            rec["nested"] = True
    if role == "combo box" and not rec["name"]:
        try:
            sel = acc.querySelection()
            if sel.nSelectedChildren > 0:
                rec["selected"] = (sel.getSelectedChild(0).name or "").strip()
        except NotImplementedError:
            pass
    return rec


def walk(app, pyatspi, titles=False, hidden=()):
    """Showing, visible nodes of an app's windows, in tree order, each with its ancestors' boxes,
    and the windows' boxes (their titles with titles=True). Windows titled as in `hidden` are
    skipped: AT-SPI still calls an unmapped window showing."""
    out, windows = [], []

    def visit(acc, ancestors, depth, parent, toolbar):
        if acc is None or depth > 60 or len(out) > 4000:
            return
        st = acc.getState()
        if not (st.contains(pyatspi.STATE_SHOWING) and st.contains(pyatspi.STATE_VISIBLE)):
            return
        rec = node_record(acc, pyatspi, ancestors)
        if depth == 1 and rec["name"] in hidden:
            return
        rec["parent"], rec["toolbar"] = parent, toolbar
        if depth == 1:
            windows.append(rec["name"] if titles else rec["box"])
        out.append(rec)
        inner = ancestors + [[rec["role"], rec["box"]]] if rec["role"] in CLIPPERS else ancestors
        me = len(out) - 1
        for i in range(acc.childCount):
            visit(acc.getChildAtIndex(i), inner, depth + 1, me, toolbar or rec["role"] == "tool bar")

    for i in range(app.childCount):
        visit(app.getChildAtIndex(i), [], 1, -1, False)
    return out, windows


def find_app(pyatspi, pid):
    desk = pyatspi.Registry.getDesktop(0)
    for i in range(desk.childCount):
        a = desk.getChildAtIndex(i)
        if a is not None and a.get_process_id() == pid:
            return a
    return None


def wait_drawn(pyatspi, pid, timeout=20.0, hidden=()):
    """The app's accessible once it has a showing window and two walks 0.6 s apart agree."""
    t0, last = time.time(), None
    while time.time() - t0 < timeout:
        app = find_app(pyatspi, pid)
        if app is not None:
            try:
                nodes, windows = walk(app, pyatspi, hidden=hidden)
            except Exception:  # the tree changes while it is read (startup)
                nodes, windows = None, []
            key = tuple((n["role"], n["name"], *n["box"]) for n in nodes) if nodes else None
            if windows and key == last:
                return app
            if windows and time.time() - t0 > timeout / 2:  # an animation: take it as it is
                changed = sorted(set(key or ()) ^ set(last or ()), key=str)[:4]
                print(f"make_realapps: pid {pid}: still changing ({changed}), taken as drawn", flush=True)
                return app
            last = key
        time.sleep(0.6)
    raise RuntimeError(f"pid {pid}: no stable accessible window within {timeout} s")


def click(app, pyatspi, role, name):
    def find(acc):
        if acc.getRoleName() == role and acc.name == name:
            return acc
        for i in range(acc.childCount):
            c = acc.getChildAtIndex(i)
            hit = find(c) if c is not None else None
            if hit is not None:
                return hit
        return None
    acc = find(app)
    if acc is None:
        raise RuntimeError(f"no {role} named {name!r} to click")
    acc.queryAction().doAction(0)


# MARK: - Samples


def inside(b, r):
    return b[0] >= r[0] and b[1] >= r[1] and b[0] + b[2] <= r[0] + r[2] and b[1] + b[3] <= r[1] + r[3]


def overlaps(b, r):
    return b[0] < r[0] + r[2] and r[0] < b[0] + b[2] and b[1] < r[1] + r[3] and r[1] < b[1] + b[3]


def shown_text(n):
    """The text a node draws (None when it draws none): its name, an entry's content, a combo's choice."""
    if n["role"] in CONTAINERS or n["role"] not in ROLES:
        return None
    if n["role"] in ("text", "password text", "spin button"):
        return n["text"] if n["role"] != "password text" else None
    return n["name"] or n["selected"] or None


def element(n):
    """(role, data_type, box, text, label) of a node the set can use, or None."""
    role = ROLES.get(n["role"])
    if role is None:
        return None
    box = n["box"]
    t, lab = n["name"], n["label"]
    if role == "menu" and n["parent_role"] != "menu bar":
        return None
    if role == "listitem" and n["nested"]:
        # GTK3 places a nested tree row's expander-column cell one expander width right of its
        # text (seen on gtk3-widget-factory's page 3): that box is wrong, so the cell is left out.
        return None
    if role == "text":
        if n["text_box"] and n["text_box"][2] > 0 and n["text_box"][3] > 0:
            box = n["text_box"]  # the glyphs, not the row-high allocation
    elif role == "entry":
        if n["role"] == "password text":
            t = ""
        elif lab:
            t = n["text"] or ""
        else:
            t, lab = n["text"] or "", ""
    elif role == "combobox":
        t = t or n["selected"]
    kind = "text"
    square = box[2] <= 1.2 * box[3] or n["toolbar"] and box[2] < 1.5 * box[3]
    if role == "button" and (t in ICON_NAMES and box[2] <= ICON_MAX_WIDTH or square):
        role, kind = "icon", "icon"  # see ICON_NAMES
    return role, kind, box, t.rstrip(":").strip(), lab.rstrip(":").strip()


def usable(s):
    """A name a user could type: 2-40 characters on one line, not an icon's file name (GTK names
    some combo boxes after the icon they show: "dialog-warning", "emblem-default-symbolic")."""
    return bool(s) and 2 <= len(s) <= MAX_NAME and "\n" not in s and s.strip() == s and not ICON_FILE.match(s)


def occurrences(name, shown):
    """How often `name` is drawn: as a whole text, or as a run of whole words inside a longer one
    (a button "Message" beside a sentence "... message type ..." is not unique)."""
    key = " " + instructions.norm(name) + " "
    return sum((" " + t + " ").count(key) for t in shown)


def forms(role, t, lab, shown):
    """Instruction forms for one element: those of instructions.py, a few more for its missing
    roles; none when its text (an entry's or combo box's label) is not drawn exactly once."""
    once = lambda s: usable(s) and occurrences(s, shown) == 1  # noqa: E731
    if role == "entry":
        out = [f.format(l=lab) for f in instructions.LABEL_FORMS] if once(lab) else []
        return out or ([f.format(t=t) for f in instructions.VALUE_FORMS] if once(t) else [])
    if role == "combobox" and once(lab):
        return [f.format(l=lab) for f in LABELLED_COMBO_FORMS]
    table = instructions.TEXT_FORMS.get(role) or EXTRA_FORMS.get(role)
    return [f.format(t=t) for f in table] if table and once(t) else []


def guess_labels(nodes):
    """Fields without a labelled-by relation (zenity's forms) get the nearest label left of them
    on their row: toolkit geometry standing in for the missing relation."""
    labels = [m for m in nodes if m["role"] == "label" and m["name"]]
    for n in nodes:
        if n["role"] not in ("text", "password text", "spin button", "combo box") or n["label"]:
            continue
        b = n["box"]
        cy, best = b[1] + b[3] / 2, None
        for m in (m for m in labels if m["parent"] == n["parent"]):  # one grid: siblings
            mb = m["text_box"] or m["box"]
            gap = b[0] - (mb[0] + mb[2])
            on_row = m["box"][1] <= cy <= m["box"][1] + m["box"][3]
            if 0 <= gap <= LABEL_GAP and on_row and (best is None or gap < best[0]):
                best = (gap, m["name"])
        if best:
            n["label"] = best[1]


def build_samples(image, region, nodes_by_app, theme):
    """ScreenSpot samples of one captured image; boxes are shifted into the region's pixels."""
    shown = [instructions.norm(s) for _, nodes, _ in nodes_by_app for s in map(shown_text, nodes) if s]
    samples, used = [], set()
    all_windows = [w for _, _, windows in nodes_by_app for w in windows]
    for app_name, nodes, windows in nodes_by_app:
        guess_labels(nodes)
        for n in nodes:
            el = element(n)
            if el is None:
                continue
            role, kind, box, t, lab = el
            if box[2] < 4 or box[3] < 4 or not inside(box, region):
                continue
            if not any(inside(box, w) for w in windows) or not all(inside(box, a) for _, a in n["ancestors"]):
                continue
            if sum(overlaps(box, w) for w in all_windows) > 1:  # another window may lie on top of it
                continue
            options = forms(role, t, lab, shown)
            if not options:
                continue
            rng = random.Random(f"realapps:{image}:{role}:{t}:{lab}")
            ins = rng.choice(options)
            if ins in used:
                continue
            used.add(ins)
            samples.append({"img_filename": image, "bbox": [box[0] - region[0], box[1] - region[1], box[2], box[3]],
                            "instruction": ins, "data_type": kind, "data_source": role, "app": app_name,
                            "theme": theme})
    if len(samples) > MAX_PER_IMAGE:  # a fair share per image, the same elements on every run
        keep = sorted(random.Random(f"realapps-keep:{image}").sample(range(len(samples)), MAX_PER_IMAGE))
        samples = [samples[i] for i in keep]
    return samples


# MARK: - Capture


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError(f"{path}: not a PNG")
    return struct.unpack(">II", head[16:24])


def capture(path, region):
    x, y, w, h = region
    subprocess.run([common.gui_agent(), "capture", "-o", path, "--region", f"{x},{y},{w},{h}"], check=True,
                   stdout=subprocess.DEVNULL)
    if png_size(path) != (w, h):
        raise RuntimeError(f"{path}: captured {png_size(path)}, asked {w}x{h}")


def region_around(windows):
    x0 = max(0, min(w[0] for w in windows) - MARGIN)
    y0 = max(0, min(w[1] for w in windows) - MARGIN)
    x1 = min(SCREEN[0], max(w[0] + w[2] for w in windows) + MARGIN)
    y1 = min(SCREEN[1], max(w[1] + w[3] for w in windows) + MARGIN)
    return [x0, y0, x1 - x0, y1 - y0]


def x_windows(title):
    """X ids of the mapped windows with this exact title (WM_NAME)."""
    return subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(title)}$"],
                          capture_output=True, text=True).stdout.split()


def stop(proc):
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_scene(scene, home, pyatspi, dump):
    name, theme, commands, actions = scene
    procs, apps, hidden = [], [], set()
    try:
        for cmd in commands:
            argv = [a.format(home=home) for a in cmd]
            procs.append(subprocess.Popen(argv, env=app_env(home, theme), cwd=home, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            apps.append(wait_drawn(pyatspi, procs[-1].pid))
        for act in actions:
            if act[0] == "click":
                click(apps[0], pyatspi, act[1], act[2])
            elif act[0] == "hide":  # a window the scene does not want (gtk3-demo's main window)
                ids = x_windows(act[2])
                if not ids:
                    raise RuntimeError(f"no mapped X window titled {act[2]!r} to hide")
                hidden.add(act[2])
                for w in ids:
                    subprocess.run(["xdotool", "windowunmap", "--sync", w], check=True)
            elif act[0] == "move":  # the app's windows, found by their titles (no window manager)
                _, titles = walk(apps[act[1]], pyatspi, titles=True, hidden=hidden)
                for w in [w for t in titles for w in x_windows(t)]:
                    subprocess.run(["xdotool", "windowmove", "--sync", w, str(act[2]), str(act[3])], check=True)
        time.sleep(0.5)
        for p in procs:
            wait_drawn(pyatspi, p.pid, hidden=hidden)
        time.sleep(0.5)
        nodes_by_app = []
        for p, cmd in zip(procs, commands):
            nodes, windows = walk(find_app(pyatspi, p.pid), pyatspi, hidden=hidden)
            label = cmd[0] if cmd[0] != "gtk3-demo" or len(cmd) == 1 else f"gtk3-demo {cmd[1][6:]}"
            nodes_by_app.append((label, nodes, windows))
        region = [0, 0, *SCREEN] if len(commands) > 1 else region_around(nodes_by_app[0][2])
        image = name + ".png"
        capture(os.path.join(OUT, image), region)
        if dump:
            with open(os.path.join(dump, name + ".json"), "w") as f:
                json.dump({"region": region, "apps": nodes_by_app}, f, indent=1)
        return build_samples(image, region, nodes_by_app, theme)
    finally:
        for p in reversed(procs):
            stop(p)
        time.sleep(0.3)


# MARK: - Main


def inside_session(args):
    import gi
    gi.require_version("Atspi", "2.0")
    enable_accessibility()
    import pyatspi
    tmp = tempfile.mkdtemp(prefix="realapps-")
    home = write_home(tmp)
    bg = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--background"],
                          env=app_env(home, "Adwaita", bridge=False))
    time.sleep(1.5)
    only = set(args.only.split(",")) if args.only else None
    samples = []
    try:
        for scene in SCENES:
            if only and scene[0] not in only:
                continue
            got = run_scene(scene, home, pyatspi, args.dump)
            print(f"make_realapps: {scene[0]}: {len(got)} samples", flush=True)
            samples += got
    finally:
        stop(bg)
        shutil.rmtree(tmp, ignore_errors=True)
    with open(os.path.join(OUT, ANNOTATIONS), "w") as f:  # one sample a line
        f.write("[\n" + ",\n".join(json.dumps(s) for s in samples) + "\n]\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"make_realapps: {len(samples)} samples on {len({s['img_filename'] for s in samples})} images, "
          f"{total / 1024:.0f} KiB in {OUT}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated scene names (default: all); for debugging: the annotation "
                    "file then holds only these scenes")
    ap.add_argument("--dump", help="also write each scene's accessibility nodes as JSON into this folder")
    ap.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.background:
        return background_window(BACKGROUND)
    if args.inside:
        return inside_session(args)
    # A private X server, session bus and AT-SPI bus for the whole run.
    for png in (f for f in os.listdir(OUT) if f.endswith(".png")) if os.path.isdir(OUT) and not args.only else []:
        os.remove(os.path.join(OUT, png))
    os.makedirs(OUT, exist_ok=True)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    argv = [os.path.join(ROOT, "scripts", "with-xvfb"), "dbus-run-session", "--", sys.executable,
            os.path.abspath(__file__), "--inside"] + sys.argv[1:]
    sys.exit(subprocess.call(argv))


if __name__ == "__main__":
    main()
