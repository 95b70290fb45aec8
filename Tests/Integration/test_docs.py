"""The documentation is generated from the one table of policy keys and cannot drift from it:
the sample policy file, pam_passkey.conf(5) and the README each name every key with its
default, and every man page renders without a warning."""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MAN = ROOT / "man"


def docgen(build_dir, what, stdin=None):
    p = subprocess.run([build_dir / "passkey-docgen", what], input=stdin, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def keys(build_dir):
    """(name, default as written in the file, note shown instead of an empty default)."""
    rows = [line.split("\t") for line in docgen(build_dir, "keys").splitlines()]
    assert all(len(r) == 3 for r in rows), rows
    return rows


def test_key_list_is_the_whole_table(keys):
    # Read independently of the generator: the entries of PolicyKeys.all in the source.
    source = (ROOT / "Sources/Policy/PolicyKeys.swift").read_text()
    table = source[source.index("public static let all"):]
    table = table[table.index("= ["):table.index("\n    ]")]
    members = re.findall(r"AnyPolicyKey\(PolicyKey\.(\w+)\)", table)
    names = {}
    for member in members:
        m = re.search(r"static let " + member + r' = \w+\(\s*"(\w+)"', source)
        assert m, f"PolicyKey.{member} is in PolicyKeys.all but its definition was not found"
        names[member] = m.group(1)
    assert [k[0] for k in keys] == [names[m] for m in members]
    assert len(keys) >= 20
    # And every key defined is in the table: one missing from it would be read by no one.
    defined = re.findall(r'public static let (\w+) = (?:text|path|choice|duration|integer|flag|list|percent|\w+)\(\s*"(\w+)"', source)
    assert sorted(name for _, name in defined) == sorted(names.values()), "a key is defined but not in PolicyKeys.all"


def test_sample_conf_sets_nothing_and_shows_every_default(build_dir, keys):
    conf = docgen(build_dir, "conf")
    active = [l for l in conf.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert active == [], "the sample policy must set nothing: every key keeps its built-in default"
    # Uncommenting the key lines gives exactly one "key = default" per key, in table order.
    uncommented = [l[1:] for l in conf.splitlines() if re.match(r"#[a-z0-9_]+ =", l)]
    expected = [f"{name} = {default}".rstrip() for name, default, _ in keys]
    assert uncommented == expected
    for name, default, note in keys:
        if note:
            assert f"Default: {note}." in conf, f"{name}: its computed default is not explained"


def test_sample_conf_lines_fit_a_terminal(build_dir):
    long = [l for l in docgen(build_dir, "conf").splitlines() if len(l) > 80 and not re.match(r"#[a-z0-9_]+ =", l)]
    assert long == []


def roff_text(s):
    return s.replace("\\", "\\e").replace("-", "\\-")


def test_man_page_keys_section_names_every_key_with_its_default(build_dir, keys):
    page = docgen(build_dir, "fill", (MAN / "pam_passkey.conf.5.in").read_text())
    assert "@POLICY_KEYS@" not in page
    section = page[page.index(".SH KEYS"):page.index(".SH FILES")]
    entries = section.split(".TP\n")[1:]
    assert len(entries) == len(keys)
    for entry, (name, default, note) in zip(entries, keys):
        assert entry.startswith(f"\\fB\\%{name}\\fR\n"), entry
        shown = f"\\fI{roff_text(note)}\\fR" if note else f"\\fB\\%{roff_text(default)}\\fR"
        assert f"Default: {shown}." in entry, entry


def test_markdown_table_names_every_key_with_its_default(build_dir, keys):
    rows = [l for l in docgen(build_dir, "markdown").splitlines() if l.startswith("| `")]
    assert len(rows) == len(keys)
    for row, (name, default, note) in zip(rows, keys):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[0] == f"`{name}`"
        assert cells[1] == (f"*{note}*" if note else f"`{default}`")


def test_readme_table_is_the_generated_one(build_dir):
    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- keys:begin -->\n", "<!-- keys:end -->"
    assert readme.count(begin) == 1 and readme.count(end) == 1, "README.md lost its key table markers"
    table = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert table.strip("\n") == docgen(build_dir, "markdown").strip("\n"), \
        "README.md's key table is out of date: run `make docs`"


def test_fill_refuses_a_template_without_the_marker(build_dir):
    p = subprocess.run([build_dir / "passkey-docgen", "fill"], input=".TH X 5\n.SH KEYS\n",
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "@POLICY_KEYS@" in p.stderr


def render(path):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    return subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", str(path)],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("page,title,sections", [
    ("pam_passkey.8", "PAM_PASSKEY(8)",
     ["OPTIONS", "RETURN VALUES", "EXAMPLES", "FILES", "LOGGING", "SECURITY NOTES"]),
    ("passkeyctl.8", "PASSKEYCTL(8)", ["COMMANDS", "OPTIONS", "EXIT STATUS", "FILES"]),
    ("pam_passkey.conf.5", "PAM_PASSKEY.CONF(5)", ["DESCRIPTION", "KEYS", "FILES", "EXAMPLES"]),
])
def test_man_page_renders_without_warnings(build_dir, keys, tmp_path, page, title, sections):
    path = MAN / page
    if page == "pam_passkey.conf.5":
        path = tmp_path / page
        path.write_text(docgen(build_dir, "fill", (MAN / "pam_passkey.conf.5.in").read_text()))
    p = render(path)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.startswith(title)
    for s in ["NAME", "SYNOPSIS", "SEE ALSO"] + sections:
        assert re.search(rf"^{s}$", p.stdout, re.M), f"{page} has no {s} section"
    if page == "pam_passkey.conf.5":
        for name, _, _ in keys:
            assert re.search(rf"^\s+{name}\b", p.stdout, re.M), f"{name} is not in the rendered page"


def test_render_check_catches_a_broken_page(tmp_path):
    # The check above must be able to fail: an undefined macro is a warning on stderr.
    bad = tmp_path / "bad.8"
    bad.write_text(".TH BAD 8\n.SH NAME\nbad \\- page\n.XYZ undefined\n")
    assert "XYZ" in render(bad).stderr


def test_every_source_folder_is_in_the_layout_and_the_design_cites_real_files():
    """Someone new finds every part from the folder names: each Sources/ folder has a row in
    the README's layout table and is named in docs/ARCHITECTURE.md; every source file the
    design document points at exists."""
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    design = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    folders = sorted(p.name for p in (ROOT / "Sources").iterdir() if p.is_dir())
    libraries = ["CBOREncoding", "JSON", "Crypto", "WebAuthn", "Storage", "Policy", "Registry", "HostState",
                 "Intelligence", "HelperProtocol", "Authenticator", "PAMStack", "RelyingParty", "Wiring", "Wording"]
    assert [f for f in folders if f"Sources/{f}`" not in layout and f"`Sources/{f}`" not in layout
            and f"Sources/{f}`," not in layout] == [], "folders missing from the README's layout table"
    assert [lib for lib in libraries if lib not in design] == [], "libraries the design document does not name"
    cited = set(re.findall(r"\b([A-Z][A-Za-z]+/[A-Z][A-Za-z]+\.swift)\b", design))
    assert cited, "the design document cites no source file"
    assert sorted(c for c in cited if not (ROOT / "Sources" / c).is_file()) == [], "cited files that do not exist"
